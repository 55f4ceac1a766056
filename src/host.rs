//! This machine's name: how a run's lock names its holder, and the domain of mail's default
//! sender.

/// The host name the system gives (`gethostname`), without whitespace; `unknown` without one.
pub fn name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is what we pass.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    if ok && end > 0 {
        String::from_utf8_lossy(&buf[..end]).split_whitespace().collect()
    } else {
        "unknown".into()
    }
}
