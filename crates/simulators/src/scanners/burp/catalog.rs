//! The issue types the simulator knows: Burp Scanner's type index and name (as Burp reports
//! them in the repository's fixtures), a typical severity and confidence, and the type's
//! background texts and CWE classifications in the HTML shape Burp gives them.

/// One Burp issue type.
#[derive(Debug)]
pub struct IssueType {
    pub type_index: u64,
    pub name: &'static str,
    pub severity: &'static str,
    pub confidence: &'static str,
    pub description: &'static str,
    pub remediation: &'static str,
    /// `(CWE number, name)`, rendered as Burp's classification list.
    pub cwes: &'static [(u32, &'static str)],
    /// `(title, URL)`, rendered as Burp's reference list.
    pub references: &'static [(&'static str, &'static str)],
}

impl IssueType {
    /// `vulnerability_classifications_html`: an HTML list of CWE links.
    pub fn classifications_html(&self) -> Option<String> {
        if self.cwes.is_empty() {
            return None;
        }
        let items: String = self
            .cwes
            .iter()
            .map(|(n, name)| {
                format!(
                    "<li><a href=\"https://cwe.mitre.org/data/definitions/{n}.html\">CWE-{n}: {name}</a></li>"
                )
            })
            .collect();
        Some(format!("<ul>{items}</ul>"))
    }

    /// `references_html`: an HTML list of links.
    pub fn references_html(&self) -> Option<String> {
        if self.references.is_empty() {
            return None;
        }
        let items: String = self
            .references
            .iter()
            .map(|(title, url)| format!("<li><a href=\"{url}\">{title}</a></li>"))
            .collect();
        Some(format!("<ul>{items}</ul>"))
    }
}

/// The catalogue, in the order generated issues cycle through it.
pub static TYPES: &[IssueType] = &[
    IssueType {
        type_index: 2_097_920,
        name: "Cross-site scripting (reflected)",
        severity: "high",
        confidence: "certain",
        description: "<p>Reflected cross-site scripting arises when data from a request is copied into the immediate response without being made safe for the page, letting an attacker run script in a victim's browser session.</p>",
        remediation: "<p>Validate input strictly on arrival and HTML-encode user-controllable data on output.</p>",
        cwes: &[
            (
                79,
                "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
            ),
            (116, "Improper Encoding or Escaping of Output"),
        ],
        references: &[(
            "Web Security Academy: Cross-site scripting",
            "https://portswigger.net/web-security/cross-site-scripting",
        )],
    },
    IssueType {
        type_index: 1_049_088,
        name: "SQL injection",
        severity: "high",
        confidence: "firm",
        description: "<p>SQL injection arises when user-controllable data is incorporated into database queries unsafely, letting an attacker read or change data or run commands on the database.</p>",
        remediation: "<p>Use parameterized queries (prepared statements) for every database access.</p>",
        cwes: &[
            (
                89,
                "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
            ),
            (116, "Improper Encoding or Escaping of Output"),
        ],
        references: &[(
            "Web Security Academy: SQL injection",
            "https://portswigger.net/web-security/sql-injection",
        )],
    },
    IssueType {
        type_index: 5_244_416,
        name: "Cookie without HttpOnly flag set",
        severity: "low",
        confidence: "certain",
        description: "<p>A cookie issued without the HttpOnly flag can be read by script in the page, so a cross-site scripting flaw can steal it.</p>",
        remediation: "<p>Set the HttpOnly flag on cookies that scripts do not need to read.</p>",
        cwes: &[(1004, "Sensitive Cookie Without 'HttpOnly' Flag")],
        references: &[],
    },
    IssueType {
        type_index: 5_243_392,
        name: "TLS cookie without secure flag set",
        severity: "medium",
        confidence: "certain",
        description: "<p>A cookie issued over TLS without the secure flag may also be sent over unencrypted connections, where it can be intercepted.</p>",
        remediation: "<p>Set the secure flag on every cookie issued over HTTPS.</p>",
        cwes: &[(
            614,
            "Sensitive Cookie in HTTPS Session Without 'Secure' Attribute",
        )],
        references: &[],
    },
    IssueType {
        type_index: 4_197_376,
        name: "Input returned in response (reflected)",
        severity: "info",
        confidence: "certain",
        description: "<p>The value of a request parameter is copied into the application's response. This is not a vulnerability by itself but is where cross-site scripting and similar flaws start.</p>",
        remediation: "<p>Review how the reflected input is encoded in each context it appears in.</p>",
        cwes: &[
            (20, "Improper Input Validation"),
            (116, "Improper Encoding or Escaping of Output"),
        ],
        references: &[],
    },
    IssueType {
        type_index: 7_340_288,
        name: "Cacheable HTTPS response",
        severity: "info",
        confidence: "certain",
        description: "<p>The response can be stored by browsers and shared caches; sensitive content could be read by another user of the same computer.</p>",
        remediation: "<p>Send <b>Cache-control: no-store</b> on responses that carry sensitive information.</p>",
        cwes: &[(524, "Use of Cache Containing Sensitive Information")],
        references: &[],
    },
    IssueType {
        type_index: 6_292_992,
        name: "Robots.txt file",
        severity: "info",
        confidence: "certain",
        description: "<p>The web server has a robots.txt file, which may list paths the owner prefers to keep from search engines.</p>",
        remediation: "<p>Do not rely on robots.txt to hide sensitive content.</p>",
        cwes: &[(
            200,
            "Exposure of Sensitive Information to an Unauthorized Actor",
        )],
        references: &[],
    },
    IssueType {
        type_index: 8_389_632,
        name: "Content type incorrectly stated",
        severity: "low",
        confidence: "firm",
        description: "<p>The response states a content type that does not match its content, which browsers may guess differently.</p>",
        remediation: "<p>State the correct content type in every response and send <b>X-Content-Type-Options: nosniff</b>.</p>",
        cwes: &[(436, "Interpretation Conflict")],
        references: &[],
    },
];

/// The type with this index, if the catalogue has it.
pub fn by_index(type_index: u64) -> Option<&'static IssueType> {
    TYPES.iter().find(|t| t.type_index == type_index)
}
