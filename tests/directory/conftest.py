"""A real OpenLDAP server (Debian's slapd) for the directory sign-in tests.

Started once per test run on free loopback ports, with its own slapd.conf, database and
self-signed certificate in a temporary directory (the package's own instance is not used).
Its people, all under dc=example,dc=test:

| uid | password | what |
| --- | --- | --- |
| alice | alice-directory-pw | in the group "Accounting Approvers" |
| bob | bob-directory-pw | in no group |
| carol | carol-directory-pw | disabled as Active Directory does: userAccountControl bit 2 |
| dave | dave-directory-pw | his mail is admin@ridgeline.test, a local portal account's |
| cn=portal,ou=services | service-pw | the service account that looks people up |

userAccountControl comes from Debian's msuser.schema and sits on an ordinary inetOrgPerson
through extensibleObject, so the tests use the same disabled filter as Active Directory
(`(userAccountControl:1.2.840.113556.1.4.803:=2)`, a bitwise AND that OpenLDAP also knows).
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SUFFIX = "dc=example,dc=test"
SERVICE_DN = f"cn=portal,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-pw"
PASSWORDS = {
    "alice": "alice-directory-pw", "bob": "bob-directory-pw", "carol": "carol-directory-pw",
    "dave": "dave-directory-pw",
}
AD_DISABLED_FILTER = "(userAccountControl:1.2.840.113556.1.4.803:=2)"
SLAPD = shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists() else None)


@dataclass(frozen=True)
class Directory:
    ldap_url: str
    ldaps_url: str
    ca_file: str

    def config(self, **overrides) -> dict:
        """Portal settings for this directory: StartTLS over ldap://, the service account."""
        settings = {
            "LDAP_URL": self.ldap_url,
            "LDAP_CA_FILE": self.ca_file,
            "LDAP_TIMEOUT": 3,
            "LDAP_BIND_DN": SERVICE_DN,
            "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "LDAP_BASE_DN": f"ou=people,{SUFFIX}",
            "LDAP_GROUP_BASE_DN": f"ou=groups,{SUFFIX}",
            "LDAP_DISABLED_FILTER": AD_DISABLED_FILTER,
            "LDAP_COMPANY": "ridgeline",
            "LDAP_GROUP_MAP": "Accounting Approvers=ERP Integrations:Standard,Can Push to Accounting",
        }
        settings.update(overrides)
        return settings


@contextmanager
def disabled_for_a_while(directory: Directory, uid: str) -> Iterator[None]:
    """IT disables `uid` in the directory (Active Directory's way), and enables it again after."""
    from ldap3 import MODIFY_REPLACE, Connection, Server

    dn = f"uid={uid},ou=people,{SUFFIX}"
    with Connection(Server(directory.ldap_url), f"cn=admin,{SUFFIX}", "admin-pw", auto_bind=True) as admin:
        admin.modify(dn, {"userAccountControl": [(MODIFY_REPLACE, ["514"])]})
        assert admin.result["result"] == 0, admin.result
        try:
            yield
        finally:
            admin.modify(dn, {"userAccountControl": [(MODIFY_REPLACE, ["512"])]})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*args: str, cwd: Path) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def _certificates(base: Path) -> None:
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=Portal test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=base)
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-keyout", "server.key", "-out", "server.csr", cwd=base)
    (base / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=base)


def _person(uid: str, name: str, *extra: str, mail: str = "") -> str:
    return "\n".join([
        f"dn: uid={uid},ou=people,{SUFFIX}",
        "objectClass: inetOrgPerson",
        "objectClass: extensibleObject",
        f"uid: {uid}",
        f"cn: {name}",
        f"sn: {name.split()[-1]}",
        f"displayName: {name}",
        f"mail: {mail or uid + '@example.test'}",
        f"userPassword: {PASSWORDS[uid]}",
        *extra,
        "",
    ])


def _entries() -> str:
    people = [
        _person("alice", "Alice Approver", "userAccountControl: 512"),
        _person("bob", "Bob Builder"),
        _person("carol", "Carol Gone", "userAccountControl: 514"),  # 512 + ACCOUNTDISABLE
        _person("dave", "Dave Claims", mail="admin@ridgeline.test"),
    ]
    return "\n".join([
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n",
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services\n",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: portal\nuserPassword: {SERVICE_PASSWORD}\n",
        *people,
        f"dn: cn=Accounting Approvers,ou=groups,{SUFFIX}\nobjectClass: groupOfNames\n"
        f"cn: Accounting Approvers\nmember: uid=alice,ou=people,{SUFFIX}\n",
        f"dn: cn=Site Staff,ou=groups,{SUFFIX}\nobjectClass: groupOfNames\n"
        f"cn: Site Staff\nmember: uid=bob,ou=people,{SUFFIX}\n",
    ])


def _slapd_conf(base: Path) -> str:
    schema = Path("/etc/ldap/schema")
    includes = "\n".join(
        f"include {schema / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis", "msuser")
    )
    return f"""{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {base}/slapd.pid
TLSCACertificateFile {base}/ca.pem
TLSCertificateFile {base}/server.pem
TLSCertificateKeyFile {base}/server.key
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "cn=admin,{SUFFIX}"
rootpw admin-pw
directory {base}/db
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""


def _wait_for(port: int, process: subprocess.Popen, base: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slapd stopped: {(base / 'slapd.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("slapd did not start listening within 15 s")


@pytest.fixture(scope="session")
def directory(tmp_path_factory) -> Directory:
    if SLAPD is None:
        pytest.skip(
            "DIRECTORY SIGN-IN TESTS SKIPPED: OpenLDAP's slapd is not installed "
            "(apt-get install slapd ldap-utils; .ci/run installs it)"
        )
    base = tmp_path_factory.mktemp("slapd")
    (base / "db").mkdir()
    _certificates(base)
    (base / "slapd.conf").write_text(_slapd_conf(base))
    (base / "entries.ldif").write_text(_entries())
    _run(SLAPD.replace("slapd", "slapadd"), "-f", "slapd.conf", "-l", "entries.ldif", cwd=base)
    ldap_port, ldaps_port = free_port(), free_port()
    with (base / "slapd.log").open("w") as log:
        process = subprocess.Popen(
            [SLAPD, "-f", str(base / "slapd.conf"), "-d", "0",
             "-h", f"ldap://127.0.0.1:{ldap_port}/ ldaps://127.0.0.1:{ldaps_port}/"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(ldap_port, process, base)
        _wait_for(ldaps_port, process, base)
        yield Directory(
            ldap_url=f"ldap://127.0.0.1:{ldap_port}",
            ldaps_url=f"ldaps://127.0.0.1:{ldaps_port}",
            ca_file=str(base / "ca.pem"),
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
