//! Compiles `proto/egov/v1/*.proto` with protox (pure Rust, no system protoc)
//! and generates prost messages plus tonic clients and servers.

use std::{env, fs, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto");
    let package_dir = proto_root.join("egov/v1");

    let mut files: Vec<PathBuf> = fs::read_dir(&package_dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    files.sort();

    let descriptors = protox::compile(&files, [&proto_root])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("egov_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    // Type names give every message `prost::Name`, so a payload's type URL
    // (`Header.payload_type`) comes from the type itself, never a typed string.
    let mut config = tonic_prost_build::Config::new();
    config.enable_type_names();
    // An envelope's bytes are sliced from the received buffer, not copied, and
    // a relayed or logged envelope shares them: the gateway clones each one
    // several times per exchange.
    config.bytes([".egov.v1.Envelope", ".egov.v1.Signature"]);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds_with_config(descriptors, config)?;

    // compile_fds prints no rerun-if-changed of its own.
    println!("cargo:rerun-if-changed={}", package_dir.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    Ok(())
}
