//! SARIF streaming: memory stays flat however many results a log has. Its own test binary,
//! so that no other test shares the process whose peak memory it reads.

use scanners::formats::sarif::Sarif;
use scanners::{Context, Parser};

/// Counts findings through a sink without keeping them.
fn count_streamed(input: &mut dyn std::io::BufRead) -> usize {
    let mut n = 0;
    Sarif
        .parse(
            input,
            &Context::new(domain::TestId(1)),
            &mut |_| {
                n += 1;
                Ok(())
            },
        )
        .unwrap();
    n
}

/// A generated SARIF log of `results` results, produced on the fly so the test never holds
/// the document either.
struct GeneratedLog {
    results: usize,
    next: usize,
    buf: Vec<u8>,
    pos: usize,
}

impl GeneratedLog {
    fn new(results: usize) -> Self {
        let head = br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"gen","rules":[{"id":"R","shortDescription":{"text":"generated"}}]}},"results":["#;
        GeneratedLog {
            results,
            next: 0,
            buf: head.to_vec(),
            pos: 0,
        }
    }
}

impl std::io::Read for GeneratedLog {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            if self.next < self.results {
                let comma = if self.next > 0 { "," } else { "" };
                self.buf.extend_from_slice(
                    format!(
                        r#"{comma}{{"ruleId":"R","level":"warning","message":{{"text":"finding {n} {pad}"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/f{n}.c"}},"region":{{"startLine":{line}}}}}}}],"partialFingerprints":{{"h":"{n}"}}}}"#,
                        n = self.next,
                        line = self.next % 1000 + 1,
                        pad = "x".repeat(400),
                    )
                    .as_bytes(),
                );
                self.next += 1;
            } else if self.next == self.results {
                self.buf.extend_from_slice(b"]}]}");
                self.next += 1;
            } else {
                return Ok(0);
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The process's peak resident memory in KiB (`VmHWM`), on Linux.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// 5 000 results, then 60 000 (about 30 MB of SARIF, generated as it is read): the second,
/// twelve times longer, must not raise the peak memory by more than a few MB. Reading the
/// log whole would cost well over 30 MB.
#[test]
fn memory_stays_flat_with_the_number_of_results() {
    let mut warm = std::io::BufReader::new(GeneratedLog::new(5_000));
    assert_eq!(count_streamed(&mut warm), 5_000);
    let before = peak_rss_kib();

    let mut big = std::io::BufReader::new(GeneratedLog::new(60_000));
    assert_eq!(count_streamed(&mut big), 60_000);
    let after = peak_rss_kib();

    if let (Some(before), Some(after)) = (before, after) {
        let grown_kib = after.saturating_sub(before);
        assert!(
            grown_kib < 8 * 1024,
            "peak memory grew by {grown_kib} KiB over 55 000 more results"
        );
    }
}
