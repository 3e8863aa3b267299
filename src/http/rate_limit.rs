//! A per-client token bucket: each client may send `burst` requests at once and then one every
//! `60 / per_minute` seconds. Over the limit, the answer is 429 with `Retry-After`.
//!
//! A client is its IP address; IPv6 clients by their /64, since one host usually holds a whole
//! /64 and could otherwise rotate addresses to escape the limit. Behind a reverse proxy listed in
//! `trusted_proxies`, the client is the nearest address in `X-Forwarded-For` that is not a
//! trusted proxy.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    per_minute: u32,
    burst: u32,
    trusted_proxies: Vec<IpAddr>,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    map: HashMap<IpAddr, Bucket>,
    /// When idle clients were last forgotten: at most every few seconds, so a flood of new
    /// addresses cannot make every request scan the whole map.
    pruned: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Above this many clients tracked, full buckets (idle clients) are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    /// `per_minute == 0` turns the limit off.
    pub fn new(per_minute: u32, burst: u32, trusted_proxies: Vec<IpAddr>) -> Self {
        RateLimiter {
            per_minute,
            burst: burst.max(1),
            trusted_proxies: trusted_proxies.iter().map(IpAddr::to_canonical).collect(),
            buckets: Mutex::new(Buckets::default()),
        }
    }

    /// The client a request comes from: the peer, or behind a trusted proxy the address it
    /// forwarded for. `forwarded_for` holds every X-Forwarded-For line in order (a proxy may add
    /// a line of its own rather than extend the client's).
    pub fn client(&self, peer: Option<IpAddr>, forwarded_for: &[&str]) -> Option<IpAddr> {
        let mut client = peer?.to_canonical();
        if !self.trusted_proxies.contains(&client) {
            return Some(client_key(client));
        }
        // Right to left: the nearest hop first; the first one not ours is the client.
        let list = forwarded_for.join(",");
        for hop in list.rsplit(',') {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !self.trusted_proxies.contains(&ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        Some(client_key(client))
    }

    /// Takes one token for `client`; `Err(wait)` when there is none yet.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let rate = f64::from(self.per_minute) / 60.0; // tokens per second
        let burst = f64::from(self.burst);
        let mut guard = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let buckets = &mut *guard;
        let due = buckets
            .pruned
            .is_none_or(|t| now.saturating_duration_since(t) > Duration::from_secs(5));
        if buckets.map.len() > PRUNE_ABOVE && due {
            buckets.pruned = Some(now);
            buckets.map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let b = buckets.map.entry(client).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }
}

/// One X-Forwarded-For hop: an address, with or without a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// IPv6 addresses are limited by their /64; IPv4-mapped ones as IPv4.
/// The client an address belongs to: itself, or for IPv6 its /64.
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_then_one_per_interval() {
        let l = RateLimiter::new(6, 3, vec![]); // one every 10 s, 3 at once
        let t0 = Instant::now();
        let c = ip("192.0.2.1");
        for _ in 0..3 {
            assert!(l.check(c, t0).is_ok());
        }
        let wait = l.check(c, t0).unwrap_err();
        assert!(
            wait > Duration::from_secs(9) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        // Another client is not affected.
        assert!(l.check(ip("192.0.2.2"), t0).is_ok());
        // After the interval, one more.
        assert!(l.check(c, t0 + Duration::from_secs(10)).is_ok());
        assert!(l.check(c, t0 + Duration::from_secs(10)).is_err());
        // Never more than the burst, however long the pause.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(l.check(c, later).is_ok());
        }
        assert!(l.check(c, later).is_err());
    }

    #[test]
    fn zero_turns_it_off() {
        let l = RateLimiter::new(0, 1, vec![]);
        for _ in 0..1000 {
            assert!(l.check(ip("192.0.2.1"), Instant::now()).is_ok());
        }
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let l = RateLimiter::new(1, 1, vec![]);
        let t = Instant::now();
        let a = l.client(Some(ip("2001:db8:1:2::1")), &[]).unwrap();
        let b = l.client(Some(ip("2001:db8:1:2:ffff::9")), &[]).unwrap();
        assert_eq!(a, b);
        assert!(l.check(a, t).is_ok());
        assert!(l.check(b, t).is_err());
        assert_eq!(
            l.client(Some(ip("::ffff:192.0.2.7")), &[]),
            Some(ip("192.0.2.7"))
        );
    }

    #[test]
    fn every_forwarded_line_counts_mapped_peers_match_and_ports_are_dropped() {
        let l = RateLimiter::new(1, 1, vec![ip("10.0.0.1")]);
        // A proxy that adds its own line after the client's forged one: the proxy's line wins.
        assert_eq!(
            l.client(Some(ip("10.0.0.1")), &["6.6.6.6", "203.0.113.5"]),
            Some(ip("203.0.113.5"))
        );
        // The proxy's address as an IPv4-mapped peer (a dual-stack listener).
        assert_eq!(
            l.client(Some(ip("::ffff:10.0.0.1")), &["203.0.113.5"]),
            Some(ip("203.0.113.5"))
        );
        // Hops with ports.
        assert_eq!(
            l.client(Some(ip("10.0.0.1")), &["203.0.113.5:51234"]),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(
            l.client(Some(ip("10.0.0.1")), &["[2001:db8::7]:443"]),
            Some(ip("2001:db8::"))
        );
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let l = RateLimiter::new(1, 1, vec![ip("10.0.0.1"), ip("10.0.0.2")]);
        // Not a proxy of ours: the header is the client's own claim and is ignored.
        assert_eq!(
            l.client(Some(ip("198.51.100.9")), &["203.0.113.5"]),
            Some(ip("198.51.100.9"))
        );
        // Through two of our proxies: the first address not ours, from the right; what the
        // client wrote to the left of it is not trusted.
        assert_eq!(
            l.client(Some(ip("10.0.0.1")), &["1.2.3.4, 203.0.113.5, 10.0.0.2"]),
            Some(ip("203.0.113.5"))
        );
        // A garbled hop stops the walk at the last good one.
        assert_eq!(
            l.client(Some(ip("10.0.0.1")), &["203.0.113.5, junk"]),
            Some(ip("10.0.0.1"))
        );
    }
}
