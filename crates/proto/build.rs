//! Compiles `proto/` with protox (no system protoc) and writes the encoded
//! descriptor set that the services hand to gRPC reflection.

use std::{env, fs, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "chiso/registry/v1/registry.proto",
    "chiso/submission/v1/submission.proto",
    "chiso/aggregation/v1/aggregation.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());

    let mut compiler = protox::Compiler::new([&root])?;
    compiler.include_imports(true).include_source_info(true);
    for proto in PROTOS {
        compiler.open_file(proto)?;
    }
    let descriptors = compiler.file_descriptor_set();

    // compile_fds ignores file_descriptor_set_path, so write it ourselves.
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out.join("chiso_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
