//! `getInto` and `hasKey` as plain Node-API callbacks, without napi-rs's per-call machinery.
//!
//! napi-rs 3.16 wraps every `#[napi]` function call in borrow bookkeeping: a scope pushed on a
//! thread-local list, a heap allocation, a mutex-guarded map. That is about 0.5 µs per call on
//! this machine, more than an in-memory point read itself (`benches/js/napi-call-overhead.ts`:
//! raw `hasKey` 0.34 µs against 1.39 µs for the class method `has`).
//! Point reads are the calls an application makes millions of times, so these two take their
//! arguments straight from Node-API (a handful of calls into Node, no allocation). Every other
//! entry point stays with napi-rs. napi-rs generates no declarations for functions added to
//! the exports by hand; ts/native.ts declares them.
//!
//! The rules of the other entry points hold here too: the body runs inside [`guard`], so no
//! panic unwinds into Node, and every error is thrown as an `Error` whose `code` is the stable
//! code and whose message starts with it.

use std::ffi::{c_void, CStr, CString};
use std::ptr;
use std::sync::Arc;

use chronokv_engine::Handle;
use napi::bindgen_prelude::{External, FromNapiRef, Object};
use napi::{sys, Env, JsValue};
use napi_derive::napi;

use crate::convert::{optional_timestamp, ts_to_js};
use crate::errors::{coded, from_engine, guard, Result, INVALID_ARGUMENT};

/// Bytes before the value in getInto's output: the commit timestamp.
const TS_BYTES: usize = 8;

/// Adds `getInto` and `hasKey` to the module's exports when Node loads it.
#[napi(module_exports)]
pub fn register_raw_reads(exports: Object<'_>, env: Env) -> napi::Result<()> {
    let functions: [(&CStr, RawCallback); 2] = [(c"getInto", get_into), (c"hasKey", has_key)];
    for (name, callback) in functions {
        let mut function = ptr::null_mut();
        // SAFETY: `env` and `exports` are the live values Node hands the module initializer;
        // `name` is a NUL-terminated string that outlives the call (Node copies it).
        let status = unsafe {
            sys::napi_create_function(
                env.raw(),
                name.as_ptr(),
                name.to_bytes().len() as isize,
                Some(callback),
                ptr::null_mut(),
                &mut function,
            )
        };
        ok(status, "napi_create_function")?;
        // SAFETY: as above; `function` was just created in this env.
        let status = unsafe {
            sys::napi_set_named_property(env.raw(), exports.raw(), name.as_ptr(), function)
        };
        ok(status, "napi_set_named_property")?;
    }
    Ok(())
}

type RawCallback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

fn ok(status: sys::napi_status, what: &str) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!(
            "{what} failed with status {status}"
        )))
    }
}

/// `getInto(handle, key, keyLen, at, out, offset)`: see `Database.#readIntoAt` in the facade.
/// Reads the live value of `key[..keyLen]` at `at` (undefined: now) into `out` from byte
/// `offset` on and returns -1 when there is none; otherwise the value's length `n`, with the
/// commit timestamp in `out[offset..offset + 8]` (f64 LE) and the value after it, unless `out`
/// has fewer than `8 + n` bytes from `offset` on: then nothing is copied and the caller retries
/// with more room.
unsafe extern "C" fn get_into(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let result = guard(|| {
        // SAFETY: `env` and `info` are this call's, as Node passes them; the arguments stay
        // alive (on the JavaScript stack) until the callback returns, and so do the handle and
        // buffers borrowed from them.
        let [handle, key, key_len, at, out, offset] = unsafe { arguments::<6>(env, info) }?;
        // SAFETY: as above: this call's env and arguments, used only during the call.
        let (handle, key, at) = unsafe { read_arguments(env, handle, key, key_len, at) }?;
        // SAFETY: as above.
        let (out, out_len) = unsafe { buffer(env, out, "out") }?;
        // SAFETY: as above.
        let offset = unsafe { uint32(env, offset, "offset") }? as usize;
        let (key_start, out_start) = (key.as_ptr() as usize, out as usize);
        if key_start < out_start + out_len && out_start < key_start + key.len() {
            return Err(coded(
                INVALID_ARGUMENT,
                "the key and the output buffer overlap",
            ));
        }
        let db = handle.db().map_err(from_engine)?;
        db.get_with(key, at, |found| match found {
            None => -1.0,
            Some((ts, value)) => {
                let end = offset.checked_add(TS_BYTES + value.len());
                if end.is_some_and(|end| end <= out_len) {
                    // SAFETY: `out` points to `out_len` writable bytes of a Buffer that stays
                    // alive for this call, and `offset..end` lies within them; nothing else
                    // reads or writes them meanwhile (JavaScript waits for this call, and they
                    // do not overlap `key`, checked above).
                    let dest = unsafe {
                        std::slice::from_raw_parts_mut(out.add(offset), TS_BYTES + value.len())
                    };
                    dest[..TS_BYTES].copy_from_slice(&ts_to_js(ts).to_le_bytes());
                    dest[TS_BYTES..].copy_from_slice(value);
                }
                value.len() as f64
            }
        })
        .map_err(from_engine)
    });
    // SAFETY: `env` is this call's.
    unsafe { finish(env, result.map(Returned::Number)) }
}

/// `hasKey(handle, key, keyLen, at)`: true when `key[..keyLen]` has a live value at `at`.
unsafe extern "C" fn has_key(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let result = guard(|| {
        // SAFETY: as in `get_into`.
        let [handle, key, key_len, at] = unsafe { arguments::<4>(env, info) }?;
        // SAFETY: this call's env and arguments, used only during the call.
        let (handle, key, at) = unsafe { read_arguments(env, handle, key, key_len, at) }?;
        let db = handle.db().map_err(from_engine)?;
        db.get_with(key, at, |found| found.is_some())
            .map_err(from_engine)
    });
    // SAFETY: `env` is this call's.
    unsafe { finish(env, result.map(Returned::Bool)) }
}

/// What a callback hands back to JavaScript.
enum Returned {
    Number(f64),
    Bool(bool),
}

/// The first `N` arguments of this call (missing ones read as `undefined`).
///
/// # Safety
/// `env` and `info` must be the current call's.
unsafe fn arguments<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Result<[sys::napi_value; N]> {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    // SAFETY: `argv` has room for `argc` values; Node fills missing ones with `undefined`.
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut::<*mut c_void>(),
        )
    };
    checked(status, "the arguments")?;
    Ok(argv)
}

/// The arguments both reads share: the engine handle, `key[..keyLen]` and `at`.
///
/// # Safety
/// `env` must be the current call's and the values its arguments; the returned references
/// must not outlive the call.
unsafe fn read_arguments<'a>(
    env: sys::napi_env,
    handle: sys::napi_value,
    key: sys::napi_value,
    key_len: sys::napi_value,
    at: sys::napi_value,
) -> Result<(&'a Handle, &'a [u8], Option<u64>)> {
    // SAFETY: per this function's contract. napi-rs checks the external's type tag, so any
    // other value is refused rather than misread.
    let handle: &'a External<Arc<Handle>> =
        unsafe { <External<Arc<Handle>> as FromNapiRef>::from_napi_ref(env, handle) }.map_err(
            |_| {
                coded(
                    INVALID_ARGUMENT,
                    "handle must be a chronokv database handle",
                )
            },
        )?;
    // SAFETY: per this function's contract.
    let (start, len) = unsafe { buffer(env, key, "key") }?;
    // SAFETY: as above.
    let key_len = unsafe { uint32(env, key_len, "keyLen") }? as usize;
    if key_len > len {
        return Err(coded(
            INVALID_ARGUMENT,
            format!("key length {key_len} exceeds its buffer of {len} bytes"),
        ));
    }
    let key: &'a [u8] = if key_len == 0 {
        &[]
    } else {
        // SAFETY: `start` points to `len >= key_len` bytes of a Buffer alive for the call;
        // JavaScript cannot write them while it waits for this call.
        unsafe { std::slice::from_raw_parts(start, key_len) }
    };
    // SAFETY: as above.
    let at = unsafe { optional_number(env, at, "at") }?;
    Ok((handle.as_ref(), key, optional_timestamp("at", at)?))
}

/// A Buffer (or other typed array view) argument's bytes: start and length.
///
/// # Safety
/// `env` must be the current call's and `value` one of its arguments.
unsafe fn buffer(
    env: sys::napi_env,
    value: sys::napi_value,
    what: &str,
) -> Result<(*mut u8, usize)> {
    let mut data: *mut c_void = ptr::null_mut();
    let mut len = 0usize;
    // SAFETY: per this function's contract; Node reports a non-buffer as an invalid argument.
    let status = unsafe { sys::napi_get_buffer_info(env, value, &mut data, &mut len) };
    if status != sys::Status::napi_ok {
        return Err(coded(INVALID_ARGUMENT, format!("{what} must be a Buffer")));
    }
    Ok((data.cast(), if data.is_null() { 0 } else { len }))
}

/// A non-negative integer argument below 2^32.
///
/// # Safety
/// As for [`buffer`].
unsafe fn uint32(env: sys::napi_env, value: sys::napi_value, what: &str) -> Result<u32> {
    // SAFETY: per this function's contract.
    let number = unsafe { optional_number(env, value, what) }?;
    match number {
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => Ok(n as u32),
        _ => Err(coded(
            INVALID_ARGUMENT,
            format!("{what} must be an integer from 0 to 2^32 - 1"),
        )),
    }
}

/// A number argument, or `None` for `undefined` and `null`.
///
/// # Safety
/// As for [`buffer`].
unsafe fn optional_number(
    env: sys::napi_env,
    value: sys::napi_value,
    what: &str,
) -> Result<Option<f64>> {
    let mut kind = 0;
    // SAFETY: per this function's contract.
    checked(unsafe { sys::napi_typeof(env, value, &mut kind) }, what)?;
    match kind {
        sys::ValueType::napi_undefined | sys::ValueType::napi_null => Ok(None),
        sys::ValueType::napi_number => {
            let mut number = 0.0;
            // SAFETY: as above; the value is a number.
            let status = unsafe { sys::napi_get_value_double(env, value, &mut number) };
            checked(status, what)?;
            Ok(Some(number))
        }
        _ => Err(coded(INVALID_ARGUMENT, format!("{what} must be a number"))),
    }
}

fn checked(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(coded(
            crate::errors::INTERNAL,
            format!("N-API failed reading {what} (status {status})"),
        ))
    }
}

/// Converts the result for JavaScript, or throws the error (returning no value, as Node-API
/// expects of a callback that threw).
///
/// # Safety
/// `env` must be the current call's.
unsafe fn finish(env: sys::napi_env, result: Result<Returned>) -> sys::napi_value {
    let mut value = ptr::null_mut();
    let status = match result {
        // SAFETY: per this function's contract.
        Ok(Returned::Number(n)) => unsafe { sys::napi_create_double(env, n, &mut value) },
        // SAFETY: as above.
        Ok(Returned::Bool(b)) => unsafe { sys::napi_get_boolean(env, b, &mut value) },
        Err(err) => {
            let code = c_string(err.status.0);
            let message = c_string(&err.reason);
            // SAFETY: as above; both strings are NUL-terminated and live across the call.
            unsafe { sys::napi_throw_error(env, code.as_ptr(), message.as_ptr()) };
            return ptr::null_mut();
        }
    };
    if status != sys::Status::napi_ok {
        return ptr::null_mut();
    }
    value
}

/// `text` as a C string (a NUL inside, impossible in our messages, would end it early).
fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}
