#!/usr/bin/env bash
# Run by `npm test` (the "pretest" script) and by CI: makes sure the programs
# the tests use besides Node are installed. Some suites use Debian packages:
# pebble (an ACME server), chromium (the dashboard's browser tests),
# python3-dkim + python3-dnspython (an independent DKIM verifier) and swaks
# (with libnet-ssleay-perl for its TLS).
# As root it installs what is missing with apt-get; otherwise it stops at once
# and prints the exact command to run.
set -euo pipefail

missing=()
[ -x /usr/bin/pebble ] || missing+=(pebble)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import dkim, dns.resolver' 2>/dev/null || missing+=(python3-dkim python3-dnspython)
command -v swaks >/dev/null || missing+=(swaks)
# swaks speaks STARTTLS and implicit TLS only with Net::SSLeay (a Recommends, which --no-install-recommends skips).
perl -MNet::SSLeay -e1 2>/dev/null || missing+=(libnet-ssleay-perl)

if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "test set-up: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "test set-up: the tests need ${missing[*]}, which are not installed. Install them with:" >&2
if command -v apt-get >/dev/null; then
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
else
  echo "  (Debian package names) ${missing[*]}" >&2
fi
exit 1
