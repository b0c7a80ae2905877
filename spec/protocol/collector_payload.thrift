// CollectorPayload 1-0-0: the raw record the collector writes to its good stream.
// Field ids, names, types and order match Snowplow's public IDL
// (iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0), so a Snowplow enricher
// reads our records and we read theirs. Serialised with TBinaryProtocol.

namespace java com.snowplowanalytics.snowplow.CollectorPayload.thrift.model1
namespace py collector_payload

struct CollectorPayload {
  31337: required string schema

  // Intrinsic to HTTP
  100: required string ipAddress

  // Snowplow-specific
  200: required i64 timestamp
  210: required string encoding
  220: required string collector

  // Optional, intrinsic to HTTP
  300: optional string userAgent
  310: optional string refererUri
  320: optional string path
  330: optional string querystring
  340: optional string body
  350: optional list<string> headers
  360: optional string contentType

  // Optional, Snowplow-specific
  400: optional string hostname
  410: optional string networkUserId
}
