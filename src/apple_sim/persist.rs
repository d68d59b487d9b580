//! The optional state file: JSON of servers, devices, change logs, profiles and settings
//! (sessions, nonces, injected failures and counters are not kept). Loaded at start; written
//! atomically (temporary file in the same directory, then rename) after every admin change,
//! every second while Apple-side calls changed something, and at stop.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use super::gate::Sim;
use super::state::SimState;

/// Where and what was last written.
#[derive(Debug)]
pub(crate) struct Persist {
    path: PathBuf,
    /// Generation of the last successful write; serialises writers.
    written: Mutex<u64>,
}

impl Persist {
    /// A writer for `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            written: Mutex::new(0),
        }
    }

    /// The state stored at `path`, if the file exists.
    pub(crate) fn load(path: &Path) -> anyhow::Result<Option<SimState>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("parsing simulator state {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes `bytes` (state `generation`) unless a newer generation is already on disk.
    fn write(&self, generation: u64, bytes: &[u8]) -> anyhow::Result<()> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if generation <= *written {
            return Ok(());
        }
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty());
        let dir = dir.unwrap_or_else(|| Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("state");
        let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)
            .with_context(|| format!("replacing {}", self.path.display()))?;
        *written = generation;
        Ok(())
    }
}

/// Serialises the state if it changed since the last snapshot.
fn snapshot(sim: &Sim) -> Option<(u64, Vec<u8>)> {
    let mut st = sim.lock();
    if !st.rt.dirty {
        return None;
    }
    st.rt.dirty = false;
    match serde_json::to_vec(&*st) {
        Ok(bytes) => Some((st.rt.generation, bytes)),
        Err(e) => {
            tracing::error!(error = %e, "serialising the simulator state");
            None
        }
    }
}

/// Writes pending changes now (no-op without a state file).
pub(crate) async fn save(sim: &actix_web::web::Data<Sim>) {
    if sim.persist.is_none() {
        return;
    }
    let Some((generation, bytes)) = snapshot(sim) else {
        return;
    };
    let writer = sim.clone();
    let result = tokio::task::spawn_blocking(move || match &writer.persist {
        Some(p) => p.write(generation, &bytes),
        None => Ok(()),
    })
    .await;
    let failed = match result {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e,
        Err(e) => anyhow::Error::new(e),
    };
    tracing::error!(error = %failed, "saving the simulator state; will retry");
    sim.lock().rt.dirty = true;
}

/// Saves every second until `stop` turns true, then once more.
pub(crate) async fn saver(sim: actix_web::web::Data<Sim>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => save(&sim).await,
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
    save(&sim).await;
}
