//! Reads a JSON array from a response body one element at a time, as the bytes arrive: an
//! export chunk (or a Dependency-Track project's findings) can be far larger than what should
//! be held at once, and each element is sent on as soon as it is read.
//!
//! A body that ends before the array does, or is cut off, is an error naming what was read;
//! an element that is not what was expected is a protocol error with serde's reason.

use outbound::CallError;
use serde::de::DeserializeOwned;

/// Bytes already consumed are dropped once this many have piled up.
const COMPACT_AT: usize = 1 << 20;

#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Start,
    First,
    Next,
    Done,
}

pub(crate) struct ArrayReader {
    response: reqwest::Response,
    buf: Vec<u8>,
    pos: usize,
    at: At,
    ended: bool,
    what: String,
    read: usize,
}

impl ArrayReader {
    pub fn new(response: reqwest::Response, what: impl Into<String>) -> ArrayReader {
        ArrayReader {
            response,
            buf: Vec::new(),
            pos: 0,
            at: At::Start,
            ended: false,
            what: what.into(),
            read: 0,
        }
    }

    /// Reads more of the body; `false` at its end.
    async fn fill(&mut self) -> Result<bool, CallError> {
        if self.ended {
            return Ok(false);
        }
        match self.response.chunk().await {
            Ok(Some(bytes)) => {
                if self.pos >= COMPACT_AT {
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                }
                self.buf.extend_from_slice(&bytes);
                Ok(true)
            }
            Ok(None) => {
                self.ended = true;
                Ok(false)
            }
            Err(e) => Err(CallError::Transient(format!(
                "reading {} failed after {} element(s): {e}",
                self.what, self.read
            ))),
        }
    }

    /// The next significant byte, reading more as needed; `None` at the body's end.
    async fn peek(&mut self) -> Result<Option<u8>, CallError> {
        loop {
            while let Some(b) = self.buf.get(self.pos) {
                if b.is_ascii_whitespace() {
                    self.pos += 1;
                } else {
                    return Ok(Some(*b));
                }
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    fn cut_off(&self) -> CallError {
        CallError::Protocol(format!(
            "{} ended before its JSON array did, after {} element(s)",
            self.what, self.read
        ))
    }

    fn unexpected(&self, wanted: &str, got: u8) -> CallError {
        CallError::Protocol(format!(
            "{}: expected {wanted} after {} element(s), found '{}'",
            self.what,
            self.read,
            char::from(got)
        ))
    }

    /// The next element, or `None` after the last.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, CallError> {
        loop {
            match self.at {
                At::Done => return Ok(None),
                At::Start => match self.peek().await? {
                    Some(b'[') => {
                        self.pos += 1;
                        self.at = At::First;
                    }
                    Some(other) => return Err(self.unexpected("a JSON array", other)),
                    None => {
                        return Err(CallError::Protocol(format!(
                            "{} is empty, not a JSON array",
                            self.what
                        )));
                    }
                },
                At::First | At::Next => match self.peek().await? {
                    Some(b']') => {
                        self.pos += 1;
                        self.at = At::Done;
                        return match self.peek().await? {
                            None => Ok(None),
                            Some(other) => Err(self.unexpected("nothing after the array", other)),
                        };
                    }
                    Some(b',') if self.at == At::Next => {
                        self.pos += 1;
                        self.at = At::First;
                    }
                    Some(other) if self.at == At::Next => {
                        return Err(self.unexpected("',' or ']'", other));
                    }
                    Some(_) => return self.element().await.map(Some),
                    None => return Err(self.cut_off()),
                },
            }
        }
    }

    async fn element<T: DeserializeOwned>(&mut self) -> Result<T, CallError> {
        loop {
            let mut stream =
                serde_json::Deserializer::from_slice(&self.buf[self.pos..]).into_iter::<T>();
            match stream.next() {
                Some(Ok(v)) => {
                    self.pos += stream.byte_offset();
                    self.read += 1;
                    self.at = At::Next;
                    return Ok(v);
                }
                Some(Err(e)) if e.is_eof() => {
                    if !self.fill().await? {
                        return Err(self.cut_off());
                    }
                }
                Some(Err(e)) => {
                    return Err(outbound::json_error(&format!("{}: element {}", self.what, self.read + 1), &e));
                }
                None => {
                    if !self.fill().await? {
                        return Err(self.cut_off());
                    }
                }
            }
        }
    }
}
