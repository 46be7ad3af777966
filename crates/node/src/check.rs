//! `checkDatabase(path, progress)`: the engine's read-only check on a libuv pool thread.

use std::path::PathBuf;
use std::sync::Arc;

use chronokv_engine::{CheckReport, Progress};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{for_task, from_engine, guard};
use crate::progress::NativeProgress;

#[napi(object)]
pub struct NativeProblem {
    pub file: String,
    pub offset: f64,
    pub message: String,
}

#[napi(object)]
pub struct NativeCheckReport {
    pub files: f64,
    pub bytes: f64,
    pub extents: f64,
    pub blocks: f64,
    pub versions: f64,
    pub wal_segments: f64,
    pub wal_records: f64,
    pub problems: Vec<NativeProblem>,
}

pub struct Check {
    path: PathBuf,
    progress: Arc<Progress>,
}

impl Task for Check {
    type Output = CheckReport;
    type JsValue = NativeCheckReport;

    fn compute(&mut self) -> napi::Result<CheckReport> {
        guard(|| chronokv_engine::check(&self.path, &self.progress).map_err(from_engine))
            .map_err(for_task)
    }

    fn resolve(&mut self, _env: Env, report: CheckReport) -> napi::Result<NativeCheckReport> {
        Ok(NativeCheckReport {
            files: report.files as f64,
            bytes: report.bytes as f64,
            extents: report.extents as f64,
            blocks: report.blocks as f64,
            versions: report.versions as f64,
            wal_segments: report.wal_segments as f64,
            wal_records: report.wal_records as f64,
            problems: report
                .problems
                .into_iter()
                .map(|p| NativeProblem {
                    file: p.file.display().to_string(),
                    offset: p.offset as f64,
                    message: p.message,
                })
                .collect(),
        })
    }
}

/// Verifies every checksum of the (closed) database at `path`; see `chronokv_engine::check`.
/// Rejects with CHRONOKV_LOCKED while any engine holds it.
#[napi(ts_return_type = "Promise<NativeCheckReport>")]
pub fn check_database(path: String, progress: &NativeProgress) -> AsyncTask<Check> {
    AsyncTask::new(Check {
        path: PathBuf::from(path),
        progress: progress.shared(),
    })
}
