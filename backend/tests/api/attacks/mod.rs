//! The attack suite: what an abuser tries, one file per area, each against the real server and
//! database. Every test states the attack in its name and asserts the defence's effect.

mod floods;
mod foreign;
mod malformed;
mod quotas;
mod races;
mod sessions;
mod throttling;
mod tokens;
