#!/usr/bin/env bash
# Regenerates Sources/LoupeMilvus/Generated/ from milvus-proto: Swift messages (swift-protobuf's
# protoc-gen-swift) and grpc-swift-2 client and server stubs (grpc-swift-protobuf's
# protoc-gen-grpc-swift-2). The output is committed, so a build needs neither protoc nor the plugins;
# this is a developer step, run after changing the pinned tag below.
#
#   tools/generate-milvus-proto.sh [PROTO_CHECKOUT]
#
# PROTO_CHECKOUT (or MILVUS_PROTO_DIR) is a milvus-proto checkout or git directory; a git directory is
# read at the pinned tag, a plain folder is used as it is (it must hold proto/*.proto). Without one the
# pinned tag is cloned from GitHub. Needs Debian's protobuf-compiler (`apt-get install -y
# protobuf-compiler`). The plugins are built in .build-protoc/ (gitignored) from the same package
# versions Package.swift resolves; the first build takes a few minutes, later runs reuse it.
#
# The generated files are excluded from `make format` (the Makefile formats by path and skips
# Generated/) and should be read past by the duplicates check: they are machine output, not code to
# deduplicate (run `duplicates` on the other folders, or ignore rows under Sources/LoupeMilvus/Generated/).
set -euo pipefail

MILVUS_PROTO_TAG=v2.4.9
SWIFT_PROTOBUF_VERSION=1.39.0
GRPC_SWIFT_PROTOBUF_VERSION=2.4.1

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/Sources/LoupeMilvus/Generated"
scratch="$root/.build-protoc"
source_dir=${1:-${MILVUS_PROTO_DIR:-}}

command -v protoc > /dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
mkdir -p "$scratch"

# The proto files, at the pinned tag.
protos="$scratch/milvus-proto-$MILVUS_PROTO_TAG"
rm -rf "$protos" && mkdir -p "$protos"
if [[ -z "$source_dir" ]]; then
    git clone --quiet --depth 1 --branch "$MILVUS_PROTO_TAG" https://github.com/milvus-io/milvus-proto "$protos/clone"
    mv "$protos/clone/proto" "$protos/proto" && rm -rf "$protos/clone"
elif git --git-dir="$source_dir" rev-parse --verify --quiet "$MILVUS_PROTO_TAG^{commit}" > /dev/null 2>&1; then
    git --git-dir="$source_dir" archive "$MILVUS_PROTO_TAG" proto | tar -x -C "$protos"
elif git -C "$source_dir" rev-parse --verify --quiet "$MILVUS_PROTO_TAG^{commit}" > /dev/null 2>&1; then
    git -C "$source_dir" archive "$MILVUS_PROTO_TAG" proto | tar -x -C "$protos"
elif [[ -d "$source_dir/proto" ]]; then
    echo "warning: $source_dir is not a git checkout with tag $MILVUS_PROTO_TAG; using its proto/ as it is" >&2
    cp -R "$source_dir/proto" "$protos/proto"
else
    echo "no milvus-proto at $source_dir (need a git dir with tag $MILVUS_PROTO_TAG or a folder with proto/)" >&2
    exit 1
fi

# The plugins, built once from grpc-swift-protobuf's package graph (which pins swift-protobuf too).
plugin_pkg="$scratch/grpc-swift-protobuf"
if [[ ! -d "$plugin_pkg" ]]; then
    git clone --quiet --depth 1 --branch "$GRPC_SWIFT_PROTOBUF_VERSION" \
        https://github.com/grpc/grpc-swift-protobuf "$plugin_pkg"
fi
(cd "$plugin_pkg" && swift build -c release --product protoc-gen-grpc-swift-2 \
    && swift build -c release --product protoc-gen-swift) >&2
bin=$(cd "$plugin_pkg" && swift build -c release --show-bin-path)
resolved_protobuf=$(cd "$plugin_pkg" && swift package show-dependencies --format json \
    | python3 -c 'import json,sys
def walk(d):
    for x in d["dependencies"]:
        if x["identity"] == "swift-protobuf": print(x["version"]); sys.exit()
        walk(x)
walk(json.load(sys.stdin))')
if [[ "$resolved_protobuf" != "$SWIFT_PROTOBUF_VERSION" ]]; then
    echo "protoc-gen-swift resolved to swift-protobuf $resolved_protobuf, want $SWIFT_PROTOBUF_VERSION" >&2
    exit 1
fi

files=(common.proto schema.proto rg.proto feder.proto msg.proto milvus.proto)
staging="$scratch/generated"
rm -rf "$staging" && mkdir -p "$staging"
# Package visibility: the messages and stubs are for Loupe's own modules (the client here, the gRPC
# server of LoupeServer), not API that LoupeMilvus promises to library users.
protoc --proto_path="$protos/proto" \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --swift_out="$staging" --swift_opt=Visibility=Package \
    --grpc-swift-2_out="$staging" \
    --grpc-swift-2_opt=Visibility=Package,Client=true,Server=true \
    "${files[@]}"

# `Import` is a Swift keyword: the generator writes `func import(` for that rpc, which does not compile.
# Escape it wherever it is declared or called as a member.
sed -i -E 's/func import(<|\()/func `import`\1/g; s/\.import\(/.`import`(/g' "$staging/milvus.grpc.swift"
if grep -nE 'func import[(<]' "$staging/milvus.grpc.swift"; then
    echo "an unescaped 'func import' is left in milvus.grpc.swift" >&2
    exit 1
fi

# Files with no service produce an empty .grpc.swift; keep only those with stubs.
for f in "$staging"/*.grpc.swift; do
    grep -q 'enum .*Service\|struct .*Client' "$f" || rm "$f"
done

rm -rf "$out" && mkdir -p "$out"
cp "$staging"/*.swift "$out/"
cat > "$out/MilvusProtoVersion.swift" << SWIFT
// Generated by tools/generate-milvus-proto.sh (swift-protobuf $SWIFT_PROTOBUF_VERSION,
// grpc-swift-protobuf $GRPC_SWIFT_PROTOBUF_VERSION, $(protoc --version)). Do not edit: change the script
// and run it again.

/// The milvus-proto tag the messages and stubs in this folder were generated from.
package let milvusProtoTag = "$MILVUS_PROTO_TAG"
SWIFT
echo "generated $(ls "$out"/*.swift | wc -l) files into ${out#$root/}" >&2
