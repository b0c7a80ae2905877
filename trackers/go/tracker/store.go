package tracker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// Store keeps queued events across restarts. Keys are assigned by the store, increase with
// every Append, and are never 0. An [Emitter] calls it from several goroutines, one call at a
// time (it holds its own lock around each call).
type Store interface {
	// Append saves events (payload JSON without stm) and returns their keys, in order.
	Append(payloads [][]byte) ([]uint64, error)
	// Remove forgets delivered or given-up events.
	Remove(keys []uint64) error
	// Load returns the events saved and not removed, oldest first.
	Load() ([]Record, error)
	// Close releases the store.
	Close() error
}

// Record is one stored event.
type Record struct {
	Key     uint64
	Payload []byte
}

// FileStore is a [Store] in one append-only journal file: pure Go, no cgo, no dependency.
//
// Every Append and Remove is one write(2) of self-checking records (type, length, CRC-32C,
// data), so a crash can only leave a torn record at the end of the file; opening the file
// drops such a tail and keeps everything before it. The journal is rewritten (to a temporary
// file, then renamed over the old one) when removed records outweigh live ones, and cut back
// to its header whenever no event is left. A lock file stops two processes from using one
// journal at once.
type FileStore struct {
	mu        sync.Mutex
	path      string
	f         *os.File
	lock      *os.File
	sync      bool
	live      map[uint64][]byte
	liveBytes int64
	deadBytes int64
	next      uint64
	loaded    []Record
}

// FileStoreOption configures [OpenFileStore].
type FileStoreOption func(*FileStore)

// WithSyncEveryWrite fsyncs after every write, so events survive a power loss or an OS
// crash, not only a crash of the process (which a plain write already survives). It costs a
// disk flush per track call.
func WithSyncEveryWrite() FileStoreOption {
	return func(s *FileStore) { s.sync = true }
}

var journalMagic = []byte("PLWJRNL1")

const (
	recAdd    byte = 'A'
	recRemove byte = 'R'
	headerLen      = 9 // type + length + crc
	maxRecord      = 64 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrStoreLocked is returned by OpenFileStore when another store has the journal open.
var ErrStoreLocked = errors.New("event store is in use by another process")

// OpenFileStore opens (or creates) the journal at path.
func OpenFileStore(path string, opts ...FileStoreOption) (*FileStore, error) {
	s := &FileStore{path: path, live: map[uint64][]byte{}, next: 1}
	for _, o := range opts {
		o(s)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFile(lock); err != nil {
		_ = lock.Close()
		return nil, err
	}
	s.lock = lock
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		s.unlock()
		return nil, err
	}
	s.f = f
	if err := s.replay(); err != nil {
		_ = f.Close()
		s.unlock()
		return nil, err
	}
	return s, nil
}

func (s *FileStore) unlock() {
	_ = unlockFile(s.lock)
	_ = s.lock.Close()
}

// replay reads the journal, keeps every record up to the first torn or corrupt one and cuts
// the file there.
func (s *FileStore) replay() error {
	info, err := s.f.Stat()
	if err != nil {
		return err
	}
	if info.Size() == 0 {
		if _, err := s.f.Write(journalMagic); err != nil {
			return err
		}
		return s.f.Sync()
	}
	r := bufio.NewReader(s.f)
	magic := make([]byte, len(journalMagic))
	if _, err := io.ReadFull(r, magic); err != nil || !bytes.Equal(magic, journalMagic) {
		return fmt.Errorf("%s is not an event journal", s.path)
	}
	good := int64(len(journalMagic))
	head := make([]byte, headerLen)
	for {
		if _, err := io.ReadFull(r, head); err != nil {
			break
		}
		n := binary.LittleEndian.Uint32(head[1:5])
		if n > maxRecord {
			break
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			break
		}
		crc := crc32.Update(crc32.Checksum(head[:1], crcTable), crcTable, data)
		if crc != binary.LittleEndian.Uint32(head[5:9]) || !s.apply(head[0], data) {
			break
		}
		good += int64(headerLen) + int64(n)
	}
	if good < info.Size() {
		if err := s.f.Truncate(good); err != nil {
			return err
		}
	}
	if _, err := s.f.Seek(good, io.SeekStart); err != nil {
		return err
	}
	s.deadBytes = good - int64(len(journalMagic)) - s.liveBytes
	order := make([]uint64, 0, len(s.live))
	for k := range s.live {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	for _, k := range order {
		s.loaded = append(s.loaded, Record{Key: k, Payload: s.live[k]})
	}
	return nil
}

func (s *FileStore) apply(kind byte, data []byte) bool {
	switch kind {
	case recAdd:
		if len(data) < 8 {
			return false
		}
		key := binary.LittleEndian.Uint64(data)
		s.live[key] = data[8:]
		s.liveBytes += int64(headerLen + len(data))
		if key >= s.next {
			s.next = key + 1
		}
	case recRemove:
		if len(data)%8 != 0 {
			return false
		}
		for i := 0; i < len(data); i += 8 {
			key := binary.LittleEndian.Uint64(data[i:])
			if p, ok := s.live[key]; ok {
				s.liveBytes -= int64(headerLen + 8 + len(p))
				delete(s.live, key)
			}
		}
	default:
		return false
	}
	return true
}

func appendRecord(buf []byte, kind byte, data []byte) []byte {
	var head [headerLen]byte
	head[0] = kind
	binary.LittleEndian.PutUint32(head[1:5], uint32(len(data)))
	binary.LittleEndian.PutUint32(head[5:9], crc32.Update(crc32.Checksum(head[:1], crcTable), crcTable, data))
	return append(append(buf, head[:]...), data...)
}

func (s *FileStore) write(buf []byte) error {
	if _, err := s.f.Write(buf); err != nil {
		return err
	}
	if s.sync {
		return s.f.Sync()
	}
	return nil
}

// Append implements [Store].
func (s *FileStore) Append(payloads [][]byte) ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil, ErrClosed
	}
	var buf []byte
	out := make([]uint64, len(payloads))
	for i, p := range payloads {
		data := make([]byte, 8, 8+len(p))
		binary.LittleEndian.PutUint64(data, s.next+uint64(i))
		buf = appendRecord(buf, recAdd, append(data, p...))
	}
	if err := s.write(buf); err != nil {
		return nil, err
	}
	for i, p := range payloads {
		out[i] = s.next
		s.live[s.next] = p
		s.liveBytes += int64(headerLen + 8 + len(p))
		s.next++
	}
	return out, nil
}

// Remove implements [Store].
func (s *FileStore) Remove(keys []uint64) error {
	if len(keys) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return ErrClosed
	}
	data := make([]byte, 0, 8*len(keys))
	for _, k := range keys {
		data = binary.LittleEndian.AppendUint64(data, k)
	}
	if err := s.write(appendRecord(nil, recRemove, data)); err != nil {
		return err
	}
	s.deadBytes += int64(headerLen + len(data))
	for _, k := range keys {
		if p, ok := s.live[k]; ok {
			s.liveBytes -= int64(headerLen + 8 + len(p))
			s.deadBytes += int64(headerLen + 8 + len(p))
			delete(s.live, k)
		}
	}
	switch {
	case len(s.live) == 0:
		return s.reset()
	case s.deadBytes > 1<<20 && s.deadBytes > s.liveBytes:
		return s.compact()
	}
	return nil
}

// reset cuts the journal back to its header (no live event left).
func (s *FileStore) reset() error {
	if err := s.f.Truncate(int64(len(journalMagic))); err != nil {
		return err
	}
	if _, err := s.f.Seek(int64(len(journalMagic)), io.SeekStart); err != nil {
		return err
	}
	s.liveBytes, s.deadBytes = 0, 0
	if s.sync {
		return s.f.Sync()
	}
	return nil
}

// compact rewrites the live records to a new journal and renames it over the old one.
func (s *FileStore) compact() error {
	order := make([]uint64, 0, len(s.live))
	for k := range s.live {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	buf := append([]byte(nil), journalMagic...)
	for _, k := range order {
		data := binary.LittleEndian.AppendUint64(nil, k)
		buf = appendRecord(buf, recAdd, append(data, s.live[k]...))
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		_ = f.Close()
		return err
	}
	syncDir(filepath.Dir(s.path))
	_ = s.f.Close()
	s.f = f
	if _, err := s.f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	s.deadBytes = 0
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Load implements [Store]: the events found when the journal was opened.
func (s *FileStore) Load() ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.loaded
	s.loaded = nil
	return out, nil
}

// Len returns how many events the journal holds.
func (s *FileStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Close implements [Store]: it syncs the journal, closes it and releases the lock.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Sync()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	s.unlock()
	return err
}
