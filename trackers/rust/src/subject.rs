//! Who and where: the user, device and session fields sent with events.

use crate::payload::Payload;

/// User, device and session fields. Every field is optional; set the ones you know.
///
/// A tracker has one subject for every event; an event may carry its own, whose fields are
/// laid over the tracker's for that event only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// `uid`: your own user identifier.
    pub user_id: Option<String>,
    /// `duid`: the first-party (domain) user id.
    pub domain_user_id: Option<String>,
    /// `tnuid`: the network user id, overriding the collector's cookie id.
    pub network_user_id: Option<String>,
    /// `res`: screen resolution, width × height in pixels.
    pub screen_resolution: Option<(u32, u32)>,
    /// `vp`: viewport, width × height in pixels.
    pub viewport: Option<(u32, u32)>,
    /// `cd`: colour depth in bits.
    pub color_depth: Option<u32>,
    /// `tz`: time zone, e.g. `Europe/London`.
    pub timezone: Option<String>,
    /// `lang`: language, e.g. `en-GB`.
    pub language: Option<String>,
    /// `ip`: the user's IP address, overriding the one the collector sees.
    pub ip_address: Option<String>,
    /// `ua`: user agent, overriding the request's header.
    pub useragent: Option<String>,
    /// `sid`: session id (a UUID).
    pub session_id: Option<String>,
    /// `vid`: session index, 1 for the first session.
    pub session_index: Option<u32>,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: String) => {
        $(#[$doc])*
        pub fn $name(mut self, value: impl Into<String>) -> Self {
            self.$name = Some(value.into());
            self
        }
    };
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value);
            self
        }
    };
}

impl Subject {
    /// An empty subject.
    pub fn new() -> Self {
        Self::default()
    }

    setter!(/// Sets `uid`.
        user_id: String);
    setter!(/// Sets `duid`.
        domain_user_id: String);
    setter!(/// Sets `tnuid`.
        network_user_id: String);
    setter!(/// Sets `tz`.
        timezone: String);
    setter!(/// Sets `lang`.
        language: String);
    setter!(/// Sets `ip`.
        ip_address: String);
    setter!(/// Sets `ua`.
        useragent: String);
    setter!(/// Sets `sid`.
        session_id: String);
    setter!(/// Sets `cd`.
        color_depth: u32);
    setter!(/// Sets `vid`.
        session_index: u32);

    /// Sets `res` (width × height).
    pub fn screen_resolution(mut self, width: u32, height: u32) -> Self {
        self.screen_resolution = Some((width, height));
        self
    }

    /// Sets `vp` (width × height).
    pub fn viewport(mut self, width: u32, height: u32) -> Self {
        self.viewport = Some((width, height));
        self
    }

    /// This subject with every field `over` sets laid over it.
    pub fn merged_with(&self, over: &Subject) -> Subject {
        fn pick<T: Clone>(over: &Option<T>, base: &Option<T>) -> Option<T> {
            over.clone().or_else(|| base.clone())
        }
        Subject {
            user_id: pick(&over.user_id, &self.user_id),
            domain_user_id: pick(&over.domain_user_id, &self.domain_user_id),
            network_user_id: pick(&over.network_user_id, &self.network_user_id),
            screen_resolution: pick(&over.screen_resolution, &self.screen_resolution),
            viewport: pick(&over.viewport, &self.viewport),
            color_depth: pick(&over.color_depth, &self.color_depth),
            timezone: pick(&over.timezone, &self.timezone),
            language: pick(&over.language, &self.language),
            ip_address: pick(&over.ip_address, &self.ip_address),
            useragent: pick(&over.useragent, &self.useragent),
            session_id: pick(&over.session_id, &self.session_id),
            session_index: pick(&over.session_index, &self.session_index),
        }
    }

    /// Drops the fields that identify a user (for anonymous tracking): `uid`, `duid`,
    /// `tnuid`, `ip`, `sid` and `vid`.
    pub fn anonymised(&self) -> Subject {
        Subject {
            user_id: None,
            domain_user_id: None,
            network_user_id: None,
            ip_address: None,
            session_id: None,
            session_index: None,
            ..self.clone()
        }
    }

    pub(crate) fn write(&self, payload: &mut Payload) {
        let dims = |d: Option<(u32, u32)>| d.map(|(w, h)| format!("{w}x{h}"));
        payload.set_opt("uid", self.user_id.as_deref());
        payload.set_opt("duid", self.domain_user_id.as_deref());
        payload.set_opt("tnuid", self.network_user_id.as_deref());
        payload.set_opt("res", dims(self.screen_resolution));
        payload.set_opt("vp", dims(self.viewport));
        payload.set_opt("cd", self.color_depth.map(|v| v.to_string()));
        payload.set_opt("tz", self.timezone.as_deref());
        payload.set_opt("lang", self.language.as_deref());
        payload.set_opt("ip", self.ip_address.as_deref());
        payload.set_opt("ua", self.useragent.as_deref());
        payload.set_opt("sid", self.session_id.as_deref());
        payload.set_opt("vid", self.session_index.map(|v| v.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_lays_the_event_subject_over_the_tracker_subject() {
        let base = Subject::new().user_id("u-1").language("en-GB");
        let over = Subject::new().user_id("u-2").timezone("Europe/Berlin");
        let merged = base.merged_with(&over);
        assert_eq!(merged.user_id.as_deref(), Some("u-2"));
        assert_eq!(merged.language.as_deref(), Some("en-GB"));
        assert_eq!(merged.timezone.as_deref(), Some("Europe/Berlin"));
    }

    #[test]
    fn dimensions_are_width_x_height() {
        let mut p = Payload::new();
        Subject::new()
            .screen_resolution(1920, 1080)
            .viewport(1280, 720)
            .write(&mut p);
        assert_eq!(p.get("res"), Some("1920x1080"));
        assert_eq!(p.get("vp"), Some("1280x720"));
    }

    #[test]
    fn anonymised_keeps_only_non_identifying_fields() {
        let s = Subject::new()
            .user_id("u")
            .ip_address("1.2.3.4")
            .language("de")
            .session_id("s");
        let a = s.anonymised();
        assert_eq!((a.user_id, a.ip_address, a.session_id), (None, None, None));
        assert_eq!(a.language.as_deref(), Some("de"));
    }
}
