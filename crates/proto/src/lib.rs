//! Protobuf and gRPC types for every chiso service, generated from `proto/`.

pub mod convert;

/// `chiso.registry.v1`: agencies, credentials and tokens.
#[allow(clippy::all, missing_docs, rust_2018_idioms)]
pub mod registry {
    pub mod v1 {
        tonic::include_proto!("chiso.registry.v1");
    }
}

/// `chiso.submission.v1`: catalogue, reports and the change feed.
#[allow(clippy::all, missing_docs, rust_2018_idioms)]
pub mod submission {
    pub mod v1 {
        tonic::include_proto!("chiso.submission.v1");
    }
}

/// `chiso.aggregation.v1`: indicator aggregates.
#[allow(clippy::all, missing_docs, rust_2018_idioms)]
pub mod aggregation {
    pub mod v1 {
        tonic::include_proto!("chiso.aggregation.v1");
    }
}

/// Encoded `FileDescriptorSet` of every chiso proto and its imports, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/chiso_descriptor.bin"));
