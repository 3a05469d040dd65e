#!/usr/bin/env python3
"""Prints identities signed the way the gateway signs requests for the services behind it, one
per line: user, request id and signature, tab-separated. The signature (X-Gateway-Signature:
t=<unix>,v2=<hex HMAC-SHA256>) covers one request to one service: a label, then the timestamp,
service, method, request target, hex SHA-256 of the body, user id, roles and request id, each
as <UTF-8 length>:<bytes> (see Sources/ServiceKit/GatewaySignature.swift). It is good for 60 s.

usage: bench/identities.py SECRET COUNT PREFIX ROLES METHOD TARGET [BODY] [SERVICE]
"""
import hashlib, hmac, sys, time, uuid

secret, count, prefix, roles, method, target = sys.argv[1].encode(), int(sys.argv[2]), *sys.argv[3:7]
body = sys.argv[7] if len(sys.argv) > 7 else ""
service = sys.argv[8] if len(sys.argv) > 8 else "booking"
now = int(time.time())
digest = hashlib.sha256(body.encode()).hexdigest()
for index in range(count):
    user, request_id = f"{prefix}{index}", str(uuid.uuid4())
    message = b"booking-rush-gateway-v2\n"
    for field in (str(now), service, method, target, digest, user, roles, request_id):
        data = field.encode()
        message += str(len(data)).encode() + b":" + data
    print(f"{user}\t{request_id}\tt={now},v2={hmac.new(secret, message, hashlib.sha256).hexdigest()}")
