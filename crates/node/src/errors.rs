//! The one place engine errors become JavaScript errors.

use std::panic::{catch_unwind, AssertUnwindSafe};

use chronokv_engine::Error;

/// A stable error code, used as the napi status so that sync throws carry it as `err.code`.
#[derive(Debug, Clone, Copy)]
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// Result of a sync entry point.
pub type Result<T> = std::result::Result<T, napi::Error<Code>>;

pub const INVALID_ARGUMENT: Code = Code("CHRONOKV_INVALID_ARGUMENT");
pub const INTERNAL: Code = Code("CHRONOKV_INTERNAL");

/// The stable code of an engine error.
pub fn code_of(err: &Error) -> Code {
    Code(match err {
        Error::InvalidArgument(_) => "CHRONOKV_INVALID_ARGUMENT",
        Error::Closed => "CHRONOKV_CLOSED",
        Error::Locked { .. } => "CHRONOKV_LOCKED",
        Error::ReadOnly => "CHRONOKV_READ_ONLY",
        Error::Conflict { .. } => "CHRONOKV_CONFLICT",
        Error::Corruption { .. } => "CHRONOKV_CORRUPTION",
        Error::Io { .. } | Error::Poisoned { .. } => "CHRONOKV_IO",
        _ => "CHRONOKV_INTERNAL",
    })
}

/// An error with `code` as status and `CODE: message` as message.
pub fn coded(code: Code, message: impl std::fmt::Display) -> napi::Error<Code> {
    napi::Error::new(code, format!("{}: {message}", code.0))
}

/// Converts an engine error for a sync entry point.
pub fn from_engine(err: Error) -> napi::Error<Code> {
    coded(code_of(&err), err)
}

/// Converts a napi error raised while marshalling (creating a Buffer, an object...).
pub fn from_napi(err: napi::Error) -> napi::Error<Code> {
    coded(INTERNAL, format!("N-API call failed: {err}"))
}

/// The same error for an async task, whose rejections can only carry napi's own status: the
/// code travels in the message, as everywhere.
pub fn for_task(err: napi::Error<Code>) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, err.reason.clone())
}

/// Runs an entry point, turning a panic into a CHRONOKV_INTERNAL error so none crosses N-API.
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(coded(
            INTERNAL,
            format!("internal error (please report): {what}"),
        ))
    })
}
