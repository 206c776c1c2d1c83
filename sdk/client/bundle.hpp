#pragma once
// Code bundles: the files a deployment lists, packed as a deterministic tar.gz and named
// by its sha256 ("sha256:<64 hex>"). The same files (same relative paths, contents and
// executable bits) always give the same bytes, so an identical bundle is stored once.
// Unpacking is defensive: agents unpack bundles they did not make.
#include <cstdint>
#include <string>
#include <vector>

#include "sdk/core/error.hpp"

namespace weft::client {

// 100 MiB unless WEFT_MAX_BUNDLE_SIZE (bytes, or with a suffix: 10MiB, 500k, 1G) says so.
std::int64_t MaxBundleSize();

struct PackedBundle {
  std::string path;                // the tar.gz written
  std::string digest;              // "sha256:<hex>"
  std::int64_t size = 0;           // bytes of the tar.gz
  std::vector<std::string> files;  // entry names, sorted
};

// Packs `include` (paths relative to `base_dir`: files, directories taken recursively, or
// glob patterns with `*`, `?` and `**`) into `out_path`. Paths inside `base_dir` keep
// their relative path in the bundle; a path that leaves `base_dir` (absolute or through
// "..") is placed at the bundle root under its last component. Symlinks are followed.
// Entries are sorted, with mtime 0, uid/gid 0, no owner names and mode 0644 (0755 when the
// file is executable by its owner). Errors name the include entry: a missing file, a
// pattern that matches nothing, two entries with one name, or a bundle over `max_size`
// (< 0: MaxBundleSize()).
core::Result<PackedBundle> PackBundle(const std::string& base_dir,
                                      const std::vector<std::string>& include,
                                      const std::string& out_path, std::int64_t max_size = -1);

// "" when a deployment's command (`entrypoint[0]`) will be found in its unpacked bundle, else
// the problem: "\"./trian\" is not in the bundle (it holds train, data.csv; add it to
// include)". A relative path with a '/' ("./train", "bin/run") must be one of `files` (the
// agent runs it from the bundle's root); an absolute path (in a docker image) and a bare
// command ("python3", which may be on the agent's PATH) are not checked.
std::string EntrypointProblem(const std::string& command, const std::vector<std::string>& files);

// Unpacks a tar.gz (or plain tar) into `dest_dir` (created if missing). Refuses, naming the
// entry: absolute paths, ".." components, symlinks or hardlinks that point outside
// `dest_dir`, device files, FIFOs and sockets, sparse files, entries that would overwrite an
// earlier one, more than core::bounds::kMaxBundleEntries entries and more than
// `max_unpacked_bytes` of file data (< 0: 10 x MaxBundleSize()). On error
// `dest_dir` may hold a partial tree; the caller discards it.
core::Status UnpackBundle(const std::string& archive_path, const std::string& dest_dir,
                          std::int64_t max_unpacked_bytes = -1);

// "sha256:<hex>" of a file's bytes.
core::Result<std::string> Sha256File(const std::string& path);
// "<hex>" of a buffer.
std::string Sha256Hex(const std::string& data);
// Checks that `path` has `digest`; the error names both digests.
core::Status VerifyBundle(const std::string& path, const std::string& digest);
// True for "sha256:" followed by 64 lowercase hex digits.
bool IsValidDigest(const std::string& digest);
// The 64 hex digits of a valid digest.
std::string DigestHex(const std::string& digest);
// "12.3 MiB", "512 B".
std::string FormatBytes(std::int64_t bytes);

}  // namespace weft::client
