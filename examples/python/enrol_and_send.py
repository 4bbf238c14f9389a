#!/usr/bin/env python3
"""Enrol with the certification centre through a PKCS#10 request, then sign a request and send
it through the gateway: the way a team outside Rust joins egov-stack.

Needs only `cryptography` and `grpcio` (+ `grpcio-tools`, which generates the gRPC stubs from
`proto/` at run time):  pip install cryptography grpcio grpcio-tools

    python3 examples/python/enrol_and_send.py --token "$EGOV_PORTAL__ENROLMENT_TOKEN"

The key pair is made here and never leaves this process; the centre sees only the request
signed with it, and issues the certificate because the one-time enrolment token allows the
portal's BIN. Prints the gateway's status code (SCSS001 on success) and exits 0 only then.
"""

import argparse
import hashlib
import importlib
import os
import sys
import tempfile
import time
import uuid

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

# Domain-separation prefix of every envelope signature (crates/egov-core/src/envelope/mod.rs).
SIGNING_CONTEXT = b"egov.v1.Envelope\0"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def generated_stubs(proto_root):
    """Generates the Python stubs of proto/egov/v1 into a temporary dir and imports them."""
    from grpc_tools import protoc
    import grpc_tools

    out = tempfile.mkdtemp(prefix="egov-stubs-")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    files = [
        os.path.join("egov", "v1", name)
        for name in ("common.proto", "status.proto", "envelope.proto", "gateway.proto",
                     "pki.proto", "citizens.proto")
    ]
    status = protoc.main(
        ["protoc", f"-I{proto_root}", f"-I{well_known}", f"--python_out={out}",
         f"--grpc_python_out={out}", *files]
    )
    if status != 0:
        sys.exit(f"protoc failed ({status})")
    sys.path.insert(0, out)
    load = lambda name: importlib.import_module(f"egov.v1.{name}")
    return {name: load(name) for name in (
        "envelope_pb2", "gateway_pb2", "gateway_pb2_grpc", "pki_pb2", "pki_pb2_grpc",
        "citizens_pb2")}


def seal_subject(system_id, iin, bin_, organization):
    """The subject a seal certificate carries, exactly as the centre issues it."""
    surname, given = system_id.upper(), "SEAL"
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{surname} {given}"),
        x509.NameAttribute(NameOID.SURNAME, surname),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"),
        x509.NameAttribute(NameOID.GIVEN_NAME, given),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin_}"),
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pki", default="127.0.0.1:7110", help="the centre's gRPC address")
    parser.add_argument("--gateway", default="127.0.0.1:7100", help="the gateway's gRPC address")
    parser.add_argument("--token", default=os.environ.get("EGOV_PORTAL__ENROLMENT_TOKEN"),
                        help="the one-time enrolment token for the system's seal")
    parser.add_argument("--system", default="portal", help="the sending system's id")
    parser.add_argument("--bin", default="040340001035", help="the system's BIN")
    parser.add_argument("--organization", default="ЭҮП / Портал", help="the organisation's name")
    parser.add_argument("--responsible-iin", default="751204400013",
                        help="IIN of the person responsible for the seal")
    parser.add_argument("--person", default="920618490023", help="the IIN to look up")
    parser.add_argument("--proto", default=os.path.join(REPO, "proto"))
    args = parser.parse_args()
    if not args.token:
        sys.exit("no enrolment token: pass --token or set EGOV_PORTAL__ENROLMENT_TOKEN")
    pb = generated_stubs(args.proto)
    envelope_pb2, gateway_pb2, pki_pb2 = pb["envelope_pb2"], pb["gateway_pb2"], pb["pki_pb2"]

    # 1. The key pair, made here; only the request signed with it goes to the centre.
    key = ed25519.Ed25519PrivateKey.generate()
    subject = seal_subject(args.system, args.responsible_iin, args.bin, args.organization)
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, None)

    # 2. Enrolment: the token in `authorization: Bearer`, the request in the call.
    centre = pb["pki_pb2_grpc"].CertificationCentreStub(grpc.insecure_channel(args.pki))
    cas = centre.GetCaCertificates(pki_pb2.GetCaCertificatesRequest(), timeout=10)
    issued = centre.IssueCertificate(
        pki_pb2.IssueCertificateRequest(
            surname=args.system.upper(), given_name="SEAL", iin=args.responsible_iin,
            bin=args.bin, organization=args.organization,
            role=pki_pb2.CERTIFICATE_ROLE_LEGAL_ENTITY, key_usage=pki_pb2.KEY_USAGE_SIGN,
            certification_request_der=csr.public_bytes(serialization.Encoding.DER)),
        metadata=[("authorization", f"Bearer {args.token}")], timeout=10)
    print(f"enrolled: certificate {issued.serial}", file=sys.stderr)

    # 3. The request: header and payload bytes, their digests, one Ed25519 signature.
    now = time.time_ns()
    message_id = str(uuid.uuid4())
    header = envelope_pb2.Header(
        message_id=message_id, correlation_id=message_id, service_id="citizens.person.get",
        sender_system_id=args.system, receiver_system_id="citizens",
        message_type=envelope_pb2.MESSAGE_TYPE_REQUEST,
        payload_type="/egov.v1.GetPersonRequest")
    header.message_time.seconds, header.message_time.nanos = divmod(now, 10**9)
    header_bytes = header.SerializeToString()
    payload = pb["citizens_pb2"].GetPersonRequest(iin=args.person).SerializeToString()
    header_sha256 = hashlib.sha256(header_bytes).digest()
    payload_sha256 = hashlib.sha256(payload).digest()
    signature = envelope_pb2.Signature(
        algorithm=envelope_pb2.SIGNATURE_ALGORITHM_ED25519,
        certificate_chain=[issued.certificate_der, cas.intermediate_der],
        header_sha256=header_sha256, payload_sha256=payload_sha256,
        value=key.sign(SIGNING_CONTEXT + header_sha256 + payload_sha256))
    envelope = envelope_pb2.Envelope(header=header_bytes, payload=payload, signatures=[signature])

    # 4. Through the gateway.
    gateway = pb["gateway_pb2_grpc"].GatewayStub(grpc.insecure_channel(args.gateway))
    answer = gateway.SendMessage(gateway_pb2.SendMessageRequest(envelope=envelope), timeout=30)
    print(answer.status.code, answer.status.message)
    return 0 if answer.status.code == "SCSS001" else 1


if __name__ == "__main__":
    sys.exit(main())
