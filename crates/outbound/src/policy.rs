//! The outbound address policy (SSRF guard): which addresses vulnbridge may call.
//!
//! Tracker and scanner locations are typed in by users, so a location must not become a way to
//! reach the cloud metadata service or other link-local addresses from inside the network
//! vulnbridge runs in. Every host name is resolved by [`PolicyResolver`] and each address is
//! checked; literal addresses are checked before the request. Private and loopback addresses
//! are allowed by default (self-hosted GitLab and Jira live there), and can be refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Loopback (127.0.0.0/8, ::1): the built-in simulators, a tracker on the same host.
    pub allow_loopback: bool,
    /// RFC 1918, unique-local and carrier-grade NAT ranges: self-hosted trackers.
    pub allow_private: bool,
    /// Link-local (169.254.0.0/16, fe80::/10), where cloud metadata services live. Off unless
    /// a deployment really needs it.
    pub allow_link_local: bool,
}

impl Default for OutboundPolicy {
    fn default() -> Self {
        OutboundPolicy { allow_loopback: true, allow_private: true, allow_link_local: false }
    }
}

impl OutboundPolicy {
    /// `Err(reason)` when the policy refuses the address.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        let refuse = |what: &str| Err(format!("calls to {ip} are refused: it is {what} (see the outbound policy settings)"));
        if is_metadata(ip) {
            return refuse("a cloud metadata address");
        }
        if ip.is_unspecified() || ip.is_multicast() || is_broadcast(ip) {
            return refuse("not a host address");
        }
        if is_link_local(ip) && !self.allow_link_local {
            return refuse("link-local");
        }
        if ip.is_loopback() && !self.allow_loopback {
            return refuse("loopback");
        }
        if is_private(ip) && !self.allow_private {
            return refuse("a private address");
        }
        Ok(())
    }
}

fn is_metadata(ip: IpAddr) -> bool {
    match ip {
        // AWS, GCP, Azure, OpenStack; Alibaba's is 100.100.100.200.
        IpAddr::V4(v4) => v4 == Ipv4Addr::new(169, 254, 169, 254) || v4 == Ipv4Addr::new(100, 100, 100, 200),
        // AWS's IPv6 metadata endpoint.
        IpAddr::V6(v6) => v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
    }
}

fn is_broadcast(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// A DNS resolver for reqwest that drops (and, if nothing is left, refuses) addresses the
/// policy forbids, so a host name cannot be pointed at the metadata service.
#[derive(Clone, Debug)]
pub struct PolicyResolver {
    pub policy: Arc<OutboundPolicy>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused = Some(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refused.unwrap_or_else(|| format!("{host} has no address"));
                return Err(format!("{host}: {why}").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_and_link_local_are_refused_by_default() {
        let p = OutboundPolicy::default();
        assert!(p.check("169.254.169.254".parse().unwrap()).unwrap_err().contains("metadata"));
        assert!(p.check("169.254.10.1".parse().unwrap()).unwrap_err().contains("link-local"));
        assert!(p.check("fe80::1".parse().unwrap()).is_err());
        assert!(p.check("fd00:ec2::254".parse().unwrap()).is_err());
        assert!(p.check("::ffff:169.254.169.254".parse().unwrap()).is_err(), "IPv4-mapped forms too");
        assert!(p.check("0.0.0.0".parse().unwrap()).is_err());
        assert!(p.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(p.check("10.1.2.3".parse().unwrap()).is_ok());
        assert!(p.check("140.82.112.3".parse().unwrap()).is_ok());
    }

    #[test]
    fn private_and_loopback_can_be_refused() {
        let p = OutboundPolicy { allow_loopback: false, allow_private: false, allow_link_local: false };
        assert!(p.check("127.0.0.1".parse().unwrap()).is_err());
        assert!(p.check("192.168.1.1".parse().unwrap()).is_err());
        assert!(p.check("100.64.0.1".parse().unwrap()).is_err());
        assert!(p.check("fd12::1".parse().unwrap()).is_err());
        // The metadata address stays refused even when link-local is allowed.
        let p = OutboundPolicy { allow_link_local: true, ..OutboundPolicy::default() };
        assert!(p.check("169.254.169.254".parse().unwrap()).is_err());
        assert!(p.check("169.254.10.1".parse().unwrap()).is_ok());
    }
}
