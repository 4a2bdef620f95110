#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# nginx.sh over TLS: nginx with a self-signed certificate on 127.0.0.1, curl and wrk over https,
# proxy_pass to an https upstream. Spans and metric counts per status equal nginx's access log.
SCHEME=https
# shellcheck source=tests/integration/nginx.sh
. "$(dirname "$0")/nginx.sh"
