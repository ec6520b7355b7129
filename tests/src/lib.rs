//! Test harness: real osmem-server instances and a fault-injecting proxy.
