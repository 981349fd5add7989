//! Cluster tests: several `stratus serve` processes on one PostgreSQL database and one NATS
//! JetStream bus, behind nginx (`deploy/nginx.conf`), each test with engines of its own on
//! free loopback ports. They need `nats-server`, nginx and `TEST_DATABASE_URL`, and skip
//! loudly without them; scripts/test.sh provides all three and runs them one at a time
//! (`--test-threads=1`: each starts five processes and some kill them under load).

mod harness;

mod across_backends;
mod browser;
mod faults;
mod remote_access;
