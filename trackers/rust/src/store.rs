//! Where unsent events wait: the [`EventStore`] trait and [`FileStore`], a crash-safe journal.

use crate::payload::Payload;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// A durable copy of the emitter's queue.
///
/// The emitter keeps its queue in memory and mirrors it here: every tracked event is appended
/// before `track` returns, and removed once a collector answered 2xx (or the event was given
/// up). A new emitter on the same store starts by sending what it [loads](EventStore::load).
pub trait EventStore: Send {
    /// Stores `payload` under `key` (keys grow with each call).
    fn append(&mut self, key: u64, payload: &Payload) -> io::Result<()>;
    /// Forgets the events under `keys`.
    fn remove(&mut self, keys: &[u64]) -> io::Result<()>;
    /// Every stored event, oldest first.
    fn load(&mut self) -> io::Result<Vec<(u64, Payload)>>;
}

/// An append-only journal file: one line per appended event (`A`) or removal (`D`), each with
/// an FNV-1a checksum.
///
/// * A crash mid-write leaves at most a torn last line, which the checksum rejects on load; all
///   complete lines before it are kept.
/// * Opening compacts the journal (live events only) by writing a temporary file, syncing it and
///   renaming it over the old one, so a crash during compaction leaves either file whole.
/// * Each write goes to the operating system before `track` returns (a crash of the process
///   loses nothing); [`FileStore::sync_every_write`] adds an `fsync` per write for power loss.
/// * A lock file beside it (`<path>.lock`) is held while open, so two emitters cannot share the
///   journal by mistake.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    file: File,
    _lock: File,
    sync: bool,
    live: usize,
    dead: usize,
}

impl FileStore {
    /// Opens (or creates) the journal at `path`.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(&path))?;
        lock.try_lock().map_err(|e| {
            io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{} is in use: {e}", path.display()),
            )
        })?;
        let live = read_journal(&path)?;
        write_compacted(&path, &live)?;
        let file = OpenOptions::new().append(true).open(&path)?;
        Ok(FileStore {
            path,
            file,
            _lock: lock,
            sync: false,
            live: live.len(),
            dead: 0,
        })
    }

    /// Also `fsync`s after every write, so events survive a power loss (slower tracking).
    pub fn sync_every_write(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_line(&mut self, body: &str) -> io::Result<()> {
        let line = format!("{:016x} {body}\n", fnv1a(body.as_bytes()));
        self.file.write_all(line.as_bytes())?;
        if self.sync {
            self.file.sync_data()?;
        }
        Ok(())
    }

    fn compact_if_worthwhile(&mut self) -> io::Result<()> {
        if self.dead < 4096 || self.dead < self.live * 4 {
            return Ok(());
        }
        let live = read_journal(&self.path)?;
        write_compacted(&self.path, &live)?;
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.live = live.len();
        self.dead = 0;
        Ok(())
    }
}

impl EventStore for FileStore {
    fn append(&mut self, key: u64, payload: &Payload) -> io::Result<()> {
        self.write_line(&format!("A {key} {}", payload.to_json()))?;
        self.live += 1;
        Ok(())
    }

    fn remove(&mut self, keys: &[u64]) -> io::Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = keys.iter().map(u64::to_string).collect();
        self.write_line(&format!("D {}", list.join(",")))?;
        self.live = self.live.saturating_sub(keys.len());
        self.dead += keys.len() * 2;
        self.compact_if_worthwhile()
    }

    fn load(&mut self) -> io::Result<Vec<(u64, Payload)>> {
        read_journal(&self.path)
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The live events of a journal, oldest first; lines that fail their checksum are skipped.
fn read_journal(path: &Path) -> io::Result<Vec<(u64, Payload)>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut events: Vec<(u64, Payload)> = Vec::new();
    for line in BufReader::new(file).split(b'\n') {
        let line = line?;
        let Ok(line) = std::str::from_utf8(&line) else {
            continue;
        };
        let Some((sum, body)) = line.split_once(' ') else {
            continue;
        };
        if u64::from_str_radix(sum, 16).ok() != Some(fnv1a(body.as_bytes())) {
            continue; // a torn or damaged line
        }
        if let Some(rest) = body.strip_prefix("A ") {
            let Some((key, json)) = rest.split_once(' ') else {
                continue;
            };
            let (Ok(key), Ok(value)) = (key.parse::<u64>(), serde_json::from_str(json)) else {
                continue;
            };
            if let Some(payload) = Payload::from_json(&value) {
                events.push((key, payload));
            }
        } else if let Some(rest) = body.strip_prefix("D ") {
            let gone: Vec<u64> = rest.split(',').filter_map(|k| k.parse().ok()).collect();
            events.retain(|(key, _)| !gone.contains(key));
        }
    }
    Ok(events)
}

fn write_compacted(path: &Path, live: &[(u64, Payload)]) -> io::Result<()> {
    let tmp = path.with_extension("compacting");
    {
        let mut file = File::create(&tmp)?;
        let mut text = String::new();
        for (key, payload) in live {
            let body = format!("A {key} {}", payload.to_json());
            text.push_str(&format!("{:016x} {body}\n", fnv1a(body.as_bytes())));
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the rename itself durable (not possible on every platform; best effort).
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(e: &str) -> Payload {
        let mut p = Payload::new();
        p.set("e", e);
        p
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("plowline-store-{}-{name}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.journal");
        let _ = fs::remove_file(&path);
        path
    }

    #[test]
    fn events_survive_reopening_in_order_without_the_removed_ones() {
        let path = temp("reopen");
        {
            let mut store = FileStore::open(&path).unwrap();
            for (key, e) in [(1, "pv"), (2, "se"), (3, "pp")] {
                store.append(key, &payload(e)).unwrap();
            }
            store.remove(&[2]).unwrap();
        }
        let mut store = FileStore::open(&path).unwrap();
        let loaded = store.load().unwrap();
        let kinds: Vec<_> = loaded
            .iter()
            .map(|(k, p)| (*k, p.get("e").unwrap().to_owned()))
            .collect();
        assert_eq!(kinds, [(1, "pv".to_owned()), (3, "pp".to_owned())]);
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let path = temp("torn");
        {
            let mut store = FileStore::open(&path).unwrap();
            store.append(1, &payload("pv")).unwrap();
        }
        // A crash in the middle of the second append.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"0123456789abcdef A 2 {\"e\":\"s").unwrap();
        drop(file);
        let mut store = FileStore::open(&path).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].1.get("e"), Some("pv"));
    }

    #[test]
    fn a_damaged_line_fails_its_checksum() {
        let path = temp("damaged");
        {
            let mut store = FileStore::open(&path).unwrap();
            store.append(1, &payload("pv")).unwrap();
            store.append(2, &payload("se")).unwrap();
        }
        let text = fs::read_to_string(&path).unwrap().replacen("\"pv\"", "\"xx\"", 1);
        fs::write(&path, text).unwrap();
        let loaded = FileStore::open(&path).unwrap().load().unwrap();
        assert_eq!(loaded.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn removals_compact_the_journal_and_keep_the_live_events() {
        let path = temp("compact");
        let mut store = FileStore::open(&path).unwrap();
        for key in 1..=5000 {
            store.append(key, &payload("pv")).unwrap();
        }
        let big = fs::metadata(&path).unwrap().len();
        for chunk in (1..=4999u64).collect::<Vec<_>>().chunks(100) {
            store.remove(chunk).unwrap();
        }
        // Without compaction the file would have grown past `big` (5000 appends + 50 removals).
        let now = fs::metadata(&path).unwrap().len();
        assert!(
            now < big / 2,
            "the journal was compacted: {now} bytes, {big} before"
        );
        store.append(5001, &payload("se")).unwrap();
        drop(store);
        let loaded = FileStore::open(&path).unwrap().load().unwrap();
        assert_eq!(loaded.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [5000, 5001]);
    }

    #[test]
    fn a_second_open_of_the_same_file_is_refused() {
        let path = temp("locked");
        let _first = FileStore::open(&path).unwrap();
        assert!(FileStore::open(&path).is_err());
    }
}
