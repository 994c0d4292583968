//! The .nessus parser's memory stays flat however large the file: a generated report is
//! streamed through it (never held in memory by the test either) and the process' peak
//! resident set is checked. Its own test binary, so that no other test's allocations count.
//!
//! `cargo test --test tenable_memory` runs a 256 MiB report; the 1 GiB run is `--ignored`
//! (a few minutes in a debug build):
//! `cargo test -p vulnbridge-scanners --test tenable_memory -- --ignored`.

use scanners::formats::tenable::TenableParser;
use scanners::{Context, Parser};
use std::io::{BufReader, Read};

/// A .nessus document produced on the fly: hosts × items, each item ~3 KB, 300 distinct
/// plugins, so that items fold into few findings with many endpoints.
struct GeneratedNessus {
    target_bytes: u64,
    produced: u64,
    host: u64,
    chunk: Vec<u8>,
    at: usize,
    finished: bool,
}

const PLUGINS: u64 = 300;
const ITEMS_PER_HOST: u64 = 40;

impl GeneratedNessus {
    fn new(target_bytes: u64) -> Self {
        let head = b"<?xml version=\"1.0\" ?>\n<NessusClientData_v2><Policy><policyName>p</policyName></Policy>\
                     <Report name=\"generated\" xmlns:cm=\"http://www.nessus.org/cm\">\n"
            .to_vec();
        GeneratedNessus {
            target_bytes,
            produced: 0,
            host: 0,
            chunk: head,
            at: 0,
            finished: false,
        }
    }

    fn next_chunk(&mut self) {
        self.chunk.clear();
        self.at = 0;
        if self.produced >= self.target_bytes {
            if !self.finished {
                self.chunk
                    .extend_from_slice(b"</Report></NessusClientData_v2>\n");
                self.finished = true;
            }
            return;
        }
        let h = self.host;
        self.host += 1;
        let ip = format!("10.{}.{}.{}", (h >> 16) & 255, (h >> 8) & 255, h & 255);
        let mut s = format!(
            "<ReportHost name=\"{ip}\"><HostProperties><tag name=\"host-ip\">{ip}</tag>\
             <tag name=\"host-fqdn\">host{h}.corp.example</tag></HostProperties>\n"
        );
        for i in 0..ITEMS_PER_HOST {
            let plugin = (h * 7 + i * 13) % PLUGINS;
            let port = 1000 + (plugin * 31 + i) % 5000;
            let severity = plugin % 5;
            s.push_str(&format!(
                "<ReportItem port=\"{port}\" svc_name=\"www\" protocol=\"tcp\" severity=\"{severity}\" \
                 pluginID=\"{plugin}\" pluginName=\"Generated plugin {plugin}\" pluginFamily=\"General\">\
                 <synopsis>The remote host is affected by generated issue {plugin}.</synopsis>\
                 <description>{}</description><solution>Upgrade the generated component.</solution>\
                 <see_also>https://example.com/advisories/{plugin}</see_also>\
                 <cve>CVE-2024-{:05}</cve><xref>CWE:79</xref>\
                 <plugin_output>{}</plugin_output></ReportItem>\n",
                "A long description of the weakness that Nessus found on this service. ".repeat(20),
                10_000 + plugin,
                format!("Host {ip} port {port}: banner line &amp; version {h}.{i}\n").repeat(15),
            ));
        }
        s.push_str("</ReportHost>\n");
        self.produced += s.len() as u64;
        self.chunk = s.into_bytes();
    }
}

impl Read for GeneratedNessus {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at >= self.chunk.len() {
            self.next_chunk();
        }
        let rest = self.chunk.get(self.at..).unwrap_or(&[]);
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

/// Peak resident set size of this process, from /proc (Linux); `None` elsewhere.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn run(target_bytes: u64) {
    let mut input = BufReader::with_capacity(64 * 1024, GeneratedNessus::new(target_bytes));
    let mut findings = 0usize;
    let mut endpoints = 0usize;
    let ctx = Context::new(domain::TestId(1));
    TenableParser
        .parse(&mut input, &ctx, &mut |f| {
            findings += 1;
            endpoints += f.endpoints.len();
            Ok(())
        })
        .unwrap_or_else(|e| panic!("generated report: {e}"));
    let generated = input.get_ref().produced;
    assert!(generated >= target_bytes);
    // 300 plugins × a severity each: every item folds into one of 300 findings.
    assert_eq!(findings, PLUGINS as usize);
    assert_eq!(endpoints as u64, input.get_ref().host * ITEMS_PER_HOST);
    if let Some(peak) = peak_rss_bytes() {
        eprintln!(
            "parsed {} MiB: {findings} findings, {endpoints} endpoints, peak RSS {} MiB",
            generated >> 20,
            peak >> 20
        );
        assert!(
            peak < 200 << 20,
            "peak RSS {} MiB for a {} MiB report",
            peak >> 20,
            generated >> 20
        );
    }
}

#[test]
fn a_large_nessus_file_parses_in_flat_memory() {
    run(256 << 20);
}

#[test]
#[ignore = "takes minutes in a debug build; run with --ignored"]
fn a_1_gib_nessus_file_parses_in_flat_memory() {
    run(1 << 30);
}
