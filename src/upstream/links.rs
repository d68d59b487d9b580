//! The upstream's own absolute URLs (`@odata.nextLink`, `@odata.context`, `Location`) in a
//! passed-through answer become the gateway's, so that clients keep talking to the gateway.
//! Bodies stay streamed: the rewrite works chunk by chunk, carrying a possible partial match.

use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt as _};

/// `body` with every `from` replaced by `to`, as a stream.
pub fn rewrite<S>(
    body: S,
    from: String,
    to: String,
) -> impl Stream<Item = Result<Bytes, std::io::Error>>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin,
{
    let state = (body, Vec::<u8>::new(), false);
    futures_util::stream::unfold(state, move |(mut body, carry, done)| {
        let (from, to) = (from.clone(), to.clone());
        async move {
            if done {
                return None;
            }
            match body.next().await {
                Some(Ok(chunk)) => {
                    let mut buf = carry;
                    buf.extend_from_slice(&chunk);
                    let (out, rest) = replace(&buf, from.as_bytes(), to.as_bytes());
                    Some((Ok(Bytes::from(out)), (body, rest, false)))
                }
                Some(Err(e)) => Some((Err(e), (body, Vec::new(), true))),
                None if carry.is_empty() => None,
                None => Some((Ok(Bytes::from(carry)), (body, Vec::new(), true))),
            }
        }
    })
}

/// A whole body with `from` replaced by `to`.
pub fn rewrite_all(body: &[u8], from: &str, to: &str) -> Vec<u8> {
    let (mut out, rest) = replace(body, from.as_bytes(), to.as_bytes());
    out.extend_from_slice(&rest);
    out
}

/// `buf` with `from` replaced by `to`, and the tail that may be the start of a `from` cut by
/// the chunk boundary (kept for the next chunk).
fn replace(buf: &[u8], from: &[u8], to: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut out = Vec::with_capacity(buf.len());
    let mut i = 0;
    while i < buf.len() {
        let rest = &buf[i..];
        if rest.starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else if rest.len() < from.len() && from.starts_with(rest) {
            return (out, rest.to_vec());
        } else {
            out.push(buf[i]);
            i += 1;
        }
    }
    (out, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_link_cut_by_a_chunk_boundary_is_rewritten() {
        let body = r#"{"@odata.nextLink":"http://up:1/beta/x?$skiptoken=a","v":"http://up"}"#;
        for cut in 0..body.len() {
            let chunks = vec![
                Ok(Bytes::copy_from_slice(&body.as_bytes()[..cut])),
                Ok(Bytes::copy_from_slice(&body.as_bytes()[cut..])),
            ];
            let out = rewrite(
                futures_util::stream::iter(chunks),
                "http://up:1/".to_owned(),
                "https://gw/".to_owned(),
            )
            .map(|c| c.unwrap())
            .collect::<Vec<_>>()
            .await;
            let out: Vec<u8> = out.concat();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                r#"{"@odata.nextLink":"https://gw/beta/x?$skiptoken=a","v":"http://up"}"#,
                "cut at {cut}"
            );
        }
    }
}
