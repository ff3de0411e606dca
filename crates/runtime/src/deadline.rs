//! Deadlines carried from call to call. A gRPC client says how long it
//! will wait (`grpc-timeout`); the server runs the call under that deadline
//! ([`crate::metrics::GrpcLayer`] scopes it) and every call the handler
//! makes in turn ([`crate::grpc::with_bearer`]) carries what is left of it,
//! so a caller that gave up stops the whole chain instead of leaving the
//! services below working for nobody.

use std::time::{Duration, Instant};

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `call` with `deadline` as the current call's deadline.
pub async fn scope<F: std::future::Future>(deadline: Instant, call: F) -> F::Output {
    DEADLINE.scope(deadline, call).await
}

/// The deadline of the call being served, if its client sent one.
pub fn current() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// Time left until the current call's deadline; `Some(ZERO)` once it has
/// passed.
pub fn remaining() -> Option<Duration> {
    current().map(|d| d.saturating_duration_since(Instant::now()))
}

/// Gives `request` the current call's remaining time as its timeout (sent
/// as `grpc-timeout`), if the call being served has a deadline.
pub fn propagate<T>(request: &mut tonic::Request<T>) {
    if let Some(left) = remaining() {
        request.set_timeout(left);
    }
}

/// Parses a `grpc-timeout` value: at most 8 digits and a unit (`H`, `M`,
/// `S`, `m`, `u`, `n`), per the gRPC HTTP/2 protocol. `None` for anything
/// else, which the server then treats as no deadline.
pub fn parse_grpc_timeout(value: &[u8]) -> Option<Duration> {
    let (&unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_as_the_protocol_writes_them() {
        assert_eq!(parse_grpc_timeout(b"5S"), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_grpc_timeout(b"250m"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_grpc_timeout(b"2H"), Some(Duration::from_secs(7200)));
        assert_eq!(
            parse_grpc_timeout(b"99999999u"),
            Some(Duration::from_micros(99_999_999))
        );
        for bad in [&b""[..], b"S", b"5", b"5s", b"123456789S", b"-1S", b"1.5S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn calls_made_inside_a_deadline_carry_what_is_left_of_it() {
        assert_eq!(current(), None);
        let mut outside = tonic::Request::new(());
        propagate(&mut outside);
        assert!(outside.metadata().get("grpc-timeout").is_none());

        let deadline = Instant::now() + Duration::from_secs(3);
        let sent = scope(deadline, async {
            let mut request = tonic::Request::new(());
            propagate(&mut request);
            request.metadata().get("grpc-timeout").cloned()
        })
        .await
        .expect("a timeout is sent");
        let left = parse_grpc_timeout(sent.as_bytes()).unwrap();
        assert!(
            left <= Duration::from_secs(3) && left > Duration::from_secs(2),
            "{left:?}"
        );
    }
}
