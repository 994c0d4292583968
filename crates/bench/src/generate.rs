//! Report generators: deterministic (a fixed pseudo-random sequence), realistic in shape, and
//! written as a stream so that a 1 GB file needs no memory.

use std::io::{BufWriter, Write};
use std::path::Path;

/// A small deterministic generator (xorshift), so every run writes the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const LEVELS: [&str; 3] = ["error", "warning", "note"];
const CWES: [u32; 10] = [79, 89, 22, 78, 327, 798, 352, 502, 611, 918];
const DIRS: [&str; 8] = ["src/api", "src/web", "src/auth", "src/db", "lib/util", "app/controllers", "app/models", "internal/payments"];

/// A SARIF 2.1.0 log with one run, 200 rules and `n` results at distinct locations.
pub fn sarif(out: &Path, n: usize) -> anyhow::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    write!(w, r#"{{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"BenchScanner","version":"1.0.0","rules":["#)?;
    for r in 0..200 {
        let cwe = CWES[r % CWES.len()];
        if r > 0 {
            write!(w, ",")?;
        }
        write!(
            w,
            r#"{{"id":"bench.rule.{r:03}","name":"Rule{r}","shortDescription":{{"text":"Potential issue number {r} (CWE-{cwe})"}},"fullDescription":{{"text":"A longer description of rule {r}, explaining the risk of CWE-{cwe} and how it is detected."}},"help":{{"text":"Fix it by following the guidance for CWE-{cwe}."}},"properties":{{"tags":["security","external/cwe/cwe-{cwe}"],"security-severity":"{}.{}"}}}}"#,
            r % 10,
            r % 7
        )?;
    }
    write!(w, r#"]}}}},"results":["#)?;
    for i in 0..n {
        if i > 0 {
            write!(w, ",")?;
        }
        let rule = rng.below(200);
        let dir = DIRS[rng.below(DIRS.len() as u64) as usize];
        let line = 1 + rng.below(2000);
        write!(
            w,
            r#"{{"ruleId":"bench.rule.{rule:03}","level":"{}","message":{{"text":"Finding {i}: tainted data reaches a sink in handler_{i}"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"{dir}/module_{}.rs"}},"region":{{"startLine":{line},"startColumn":5,"endLine":{line},"endColumn":42}}}}}}],"partialFingerprints":{{"primaryLocationLineHash":"{:016x}:{i}"}}}}"#,
            LEVELS[(rule % 3) as usize],
            i / 10,
            rng.next()
        )?;
    }
    write!(w, "]}}]}}")?;
    w.flush()?;
    Ok(())
}

/// A NessusClientData_v2 report of about `bytes`: hosts of 50 items each, each item with
/// plugin output, CVEs and CVSS, like a real authenticated scan. Returns the item count.
pub fn nessus(out: &Path, bytes: u64) -> anyhow::Result<u64> {
    let file = std::fs::File::create(out)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng(0x0e55_05ca_1e00_0002);
    let put = |w: &mut BufWriter<std::fs::File>, s: &str| w.write_all(s.as_bytes());
    put(&mut w, "<?xml version=\"1.0\" ?>\n<NessusClientData_v2>\n<Report name=\"bench\" xmlns:cm=\"http://www.nessus.org/cm\">\n")?;
    let mut items = 0u64;
    let mut host = 0u64;
    let output: String = "Installed package : openssl-libs-1.0.2k-19.el7\n  Fixed package : openssl-libs-1.0.2k-26.el7\n".repeat(8);
    loop {
        let ip = format!("10.{}.{}.{}", (host >> 16) & 255, (host >> 8) & 255, host & 255);
        put(&mut w, &format!("<ReportHost name=\"{ip}\"><HostProperties><tag name=\"host-ip\">{ip}</tag><tag name=\"operating-system\">Linux Kernel 5.4</tag></HostProperties>\n"))?;
        for _ in 0..50 {
            // As in real scans, what a plugin reports (severity, CVE, CWE, CVSS) belongs to
            // the plugin; only where it was found and the output vary per host.
            let plugin = 10_000 + rng.below(5_000);
            let sev = plugin % 5;
            let port = [22, 80, 443, 3306, 8080][rng.below(5) as usize];
            put(
                &mut w,
                &format!(
                    "<ReportItem port=\"{port}\" svc_name=\"www\" protocol=\"tcp\" severity=\"{sev}\" pluginID=\"{plugin}\" pluginName=\"Plugin {plugin}: outdated package\" pluginFamily=\"General\">\
<description>The remote host is missing a security update for package {plugin}.</description>\
<solution>Update the affected packages.</solution><synopsis>Missing security update.</synopsis>\
<risk_factor>{}</risk_factor><cvss3_base_score>{}.{}</cvss3_base_score><cvss3_vector>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector>\
<cve>CVE-2023-{:05}</cve><xref>CWE:{}</xref><plugin_output>{output}</plugin_output></ReportItem>\n",
                    ["None", "Low", "Medium", "High", "Critical"][sev as usize],
                    sev * 2,
                    plugin % 10,
                    plugin * 7 % 99_999,
                    CWES[(plugin % 10) as usize],
                ),
            )?;
            items += 1;
        }
        put(&mut w, "</ReportHost>\n")?;
        host += 1;
        w.flush()?;
        if w.get_ref().metadata()?.len() >= bytes {
            break;
        }
    }
    put(&mut w, "</Report>\n</NessusClientData_v2>\n")?;
    w.flush()?;
    Ok(items)
}
