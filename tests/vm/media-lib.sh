# Shared by the install-media VM tests (sourced after lib.sh). Builds the db role's ISO and PXE set
# once per checkout into build/vm-media/<host>/ and hands out the paths:
#   ensure_media ROLE   -> MEDIA_DIR, ISO, PXE_DIR, PXE_PORT (the HTTP port the PXE set was built for)
# The PXE set's URLs are baked in at build time (--pxe-url http://10.0.2.2:PORT: the host's loopback
# as QEMU's user network shows it), so the port is chosen once, free at build time, and kept in
# MEDIA_DIR/pxe-port; a later run that finds it taken rebuilds with another.
# RACKSTACK_MEDIA_FIRSTBOOT puts another rackstack-firstboot binary into the image and the installer
# (with RACKSTACK_VM_MEDIA_OUT, to keep those media apart).
MEDIAOUT=${RACKSTACK_VM_MEDIA_OUT:-$TOP/build/vm-media}

free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# SO_REUSEADDR as http.server sets it: connections of an earlier run in TIME_WAIT do not count.
port_free() {
        python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

ensure_media() {
        local role=$1 host fb=${RACKSTACK_MEDIA_FIRSTBOOT:-$O/rackstack-firstboot}
        command -v xorriso >/dev/null || skip "xorriso missing (make deps)"
        host=$("$O/rackstack-build" show "$role" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"]["name"])')
        MEDIA_DIR=$MEDIAOUT/$host
        ISO=$MEDIA_DIR/$host.iso
        PXE_DIR=$MEDIA_DIR/pxe
        PXE_PORT=$(cat "$MEDIA_DIR/pxe-port" 2>/dev/null || true)
        # Rebuild when the media are older than the builder or the templates (they are cheap next
        # to a boot, and a stale ISO would test old code).
        local stale=
        if [ -s "$MEDIA_DIR/SHA256SUMS" ] && [ -n "$PXE_PORT" ]; then
                [ -n "$(find "$O/rackstack-build" "$fb" "$TOP/iso" -newer "$MEDIA_DIR/SHA256SUMS" \
                        -type f 2>/dev/null | head -n 1)" ] && stale="the builder or iso/ changed"
                port_free "$PXE_PORT" || stale="port $PXE_PORT is taken"
        else
                stale="not built yet"
        fi
        if [ -n "$stale" ]; then
                PXE_PORT=$(free_port)
                echo "building the $role install media ($stale; PXE over http://10.0.2.2:$PXE_PORT) into $MEDIAOUT"
                local t0=$SECONDS
                # The host's kickstart without its join lines: a single VM has no identity, monitoring
                # or log server, and join/time would wait its bound and fail.
                mkdir -p "$MEDIAOUT"
                grep -v '^join ' "$TOP/kickstart/$host.ks" >"$MEDIAOUT/$host.ks"
                # shellcheck disable=SC2046 # word splitting of the vendor options is wanted
                (cd "$TOP" && "$O/rackstack-build" build "$role" $(vendor_build_args) --base "$(host_base)" --format iso,pxe \
                        --out "$MEDIAOUT" --firstboot "$fb" --ks "$MEDIAOUT/$host.ks" \
                        --pxe-url "http://10.0.2.2:$PXE_PORT") || { echo "media build failed"; exit 1; }
                echo "$PXE_PORT" > "$MEDIA_DIR/pxe-port"
                echo "media build: $((SECONDS - t0)) s"
        fi
        (cd "$MEDIA_DIR" && sha256sum -c --quiet SHA256SUMS) || { echo "checksums of $MEDIA_DIR do not verify"; exit 1; }
        (cd "$PXE_DIR" && sha256sum -c --quiet --ignore-missing SHA256SUMS) || { echo "the PXE set's image does not verify"; exit 1; }
}
