#include "sdk/client/bundle.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "sdk/core/bounds.hpp"
#include "sdk/core/text.hpp"

namespace weft::client {

namespace fs = std::filesystem;
using core::Error;
using core::Result;
using core::Status;

namespace {

constexpr std::int64_t kDefaultMaxBundleSize = std::int64_t{100} << 20;
constexpr std::size_t kIoChunk = 64 * 1024;

bool HasGlob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> SplitPath(const std::string& p) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : p) {
    if (c == '/') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// One file to pack: where it is and its name in the bundle.
struct Source {
  fs::path path;
  std::string name;
};

class Collector {
 public:
  explicit Collector(fs::path base) : base_(std::move(base)) {}

  Status Add(const std::string& entry) {
    if (entry.empty()) return core::InvalidArgument("include: empty entry");
    if (HasGlob(entry)) return AddGlob(entry);
    fs::path p = fs::path(entry).is_absolute() ? fs::path(entry) : base_ / entry;
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      return core::InvalidArgument(fmt::format("include: file \"{}\" not found", entry));
    }
    std::string name = BundleName(p);
    if (fs::is_directory(st)) return AddDirectory(p, name, entry);
    if (!fs::is_regular_file(st)) {
      return core::InvalidArgument(
          fmt::format("include: \"{}\" is not a regular file or directory", entry));
    }
    return AddFile(p, name, entry);
  }

  std::vector<Source> Sorted() const {
    std::vector<Source> out;
    for (const auto& [name, path] : files_) out.push_back({path, name});
    return out;
  }

 private:
  // The entry's name in the bundle: relative to base when inside it, else its last component.
  std::string BundleName(const fs::path& p) const {
    fs::path rel = p.lexically_normal().lexically_relative(base_.lexically_normal());
    std::string r = rel.generic_string();
    if (!rel.empty() && r != "." && r.rfind("..", 0) != 0) return r;
    fs::path n = p.lexically_normal();
    std::string last = n.filename().string();
    if (last.empty()) last = n.parent_path().filename().string();
    return last;
  }

  Status AddFile(const fs::path& p, std::string name, const std::string& entry) {
    while (name.rfind("./", 0) == 0) name.erase(0, 2);
    if (name.empty() || name == "." || name == "..") {
      return core::InvalidArgument(fmt::format("include: \"{}\" has no usable name", entry));
    }
    auto [it, inserted] = files_.emplace(name, p);
    if (!inserted && fs::weakly_canonical(it->second) != fs::weakly_canonical(p)) {
      return core::InvalidArgument(
          fmt::format("include: \"{}\" and \"{}\" would both be \"{}\" in the bundle",
                      it->second.string(), p.string(), name));
    }
    return {};
  }

  Status AddDirectory(const fs::path& dir, const std::string& name, const std::string& entry) {
    std::error_code ec;
    std::vector<fs::path> found;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code sec;
      if (fs::is_regular_file(it->path(), sec)) found.push_back(it->path());
    }
    if (ec) {
      return core::InvalidArgument(
          fmt::format("include: cannot read directory \"{}\": {}", entry, ec.message()));
    }
    for (const auto& f : found) {
      std::string rel = f.lexically_relative(dir).generic_string();
      std::string full = (name.empty() || name == ".") ? rel : name + "/" + rel;
      if (auto s = AddFile(f, full, entry); !s) return s;
    }
    return {};
  }

  Status AddGlob(const std::string& pattern) {
    if (fs::path(pattern).is_absolute()) {
      return core::InvalidArgument(
          fmt::format("include: pattern \"{}\" must be relative to the spec's directory", pattern));
    }
    auto segs = SplitPath(pattern);
    for (const auto& s : segs) {
      if (s == "..") {
        return core::InvalidArgument(
            fmt::format("include: pattern \"{}\" may not contain \"..\"", pattern));
      }
    }
    std::set<fs::path> matches;
    Match(base_, segs, 0, matches);
    if (matches.empty()) {
      return core::InvalidArgument(fmt::format("include: pattern \"{}\" matches no file", pattern));
    }
    for (const auto& m : matches) {
      std::string name = m.lexically_relative(base_).generic_string();
      std::error_code ec;
      if (fs::is_directory(m, ec)) {
        if (auto s = AddDirectory(m, name, pattern); !s) return s;
      } else if (fs::is_regular_file(m, ec)) {
        if (auto s = AddFile(m, name, pattern); !s) return s;
      }
    }
    return {};
  }

  void Match(const fs::path& dir, const std::vector<std::string>& segs, std::size_t i,
             std::set<fs::path>& out) const {
    std::error_code ec;
    if (i == segs.size()) {
      if (fs::exists(dir, ec)) out.insert(dir);
      return;
    }
    const std::string& seg = segs[i];
    if (seg == ".") return Match(dir, segs, i + 1, out);
    if (seg == "**") {
      Match(dir, segs, i + 1, out);  // zero directories
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string n = it->path().filename().string();
        std::error_code sec;
        if (n.empty() || n[0] == '.' || !it->is_directory(sec) || it->is_symlink(sec)) continue;
        Match(it->path(), segs, i, out);
      }
      return;
    }
    if (!HasGlob(seg)) {
      fs::path next = dir / seg;
      if (i + 1 == segs.size() || fs::is_directory(next, ec)) Match(next, segs, i + 1, out);
      return;
    }
    std::vector<fs::path> children;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      children.push_back(it->path());
    }
    std::sort(children.begin(), children.end());
    for (const auto& c : children) {
      std::string n = c.filename().string();
      if (fnmatch(seg.c_str(), n.c_str(), FNM_PERIOD) != 0) continue;
      Match(c, segs, i + 1, out);
    }
  }

  fs::path base_;
  std::map<std::string, fs::path> files_;  // bundle name -> source (sorted by name)
};

struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

std::string ArchiveError(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unknown archive error";
}

}  // namespace

std::int64_t MaxBundleSize() {
  const char* env = std::getenv("WEFT_MAX_BUNDLE_SIZE");
  if (env && *env) {
    if (auto v = core::ParseByteSize(env); v && *v > 0) return *v;
  }
  return kDefaultMaxBundleSize;
}

std::string FormatBytes(std::int64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

std::string EntrypointProblem(const std::string& command, const std::vector<std::string>& files) {
  if (command.empty() || command.front() == '/') return {};
  bool has_slash = command.find('/') != std::string::npos;
  std::string name = fs::path(command).lexically_normal().generic_string();
  if (std::find(files.begin(), files.end(), name) != files.end()) return {};
  if (!has_slash) return {};
  std::string held;
  constexpr std::size_t kShown = 5;
  for (std::size_t i = 0; i < files.size() && i < kShown; ++i) {
    held += (i ? ", " : "") + files[i];
  }
  if (files.size() > kShown) held += fmt::format(", ... ({} files)", files.size());
  return fmt::format("{} is not in the bundle (it holds {}; add it to include)",
                     core::Quote(command), held.empty() ? "nothing" : held);
}

Result<PackedBundle> PackBundle(const std::string& base_dir,
                                const std::vector<std::string>& include,
                                const std::string& out_path, std::int64_t max_size) {
  if (max_size < 0) max_size = MaxBundleSize();
  fs::path base = fs::absolute(base_dir.empty() ? "." : base_dir).lexically_normal();
  Collector collector(base);
  for (const auto& entry : include) {
    if (auto s = collector.Add(entry); !s) return s.error();
  }
  std::vector<Source> sources = collector.Sorted();

  std::string tmp = out_path + ".tmp." + std::to_string(::getpid());
  std::unique_ptr<archive, ArchiveWriteDeleter> a(archive_write_new());
  archive_write_add_filter_gzip(a.get());
  // No timestamp in the gzip header, so that the output depends on the files only.
  archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);
  archive_write_set_format_pax_restricted(a.get());
  if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK) {
    return core::Internal(fmt::format("cannot write \"{}\": {}", tmp, ArchiveError(a.get())));
  }
  auto fail = [&](Error e) -> Error {
    archive_write_close(a.get());
    std::error_code ec;
    fs::remove(tmp, ec);
    return e;
  };
  auto over_limit = [&](std::int64_t size) {
    return core::Error{core::Code::kResourceExhausted,
                       fmt::format("bundle is {} ({} bytes), over the limit of {} ({} bytes); "
                                   "include fewer files or raise WEFT_MAX_BUNDLE_SIZE",
                                   FormatBytes(size), size, FormatBytes(max_size), max_size)};
  };
  PackedBundle out;
  std::string buf(kIoChunk, '\0');
  for (const auto& src : sources) {
    struct stat st {};
    if (::stat(src.path.c_str(), &st) != 0) {
      return fail(core::InvalidArgument(
          fmt::format("include: cannot read \"{}\": {}", src.path.string(), std::strerror(errno))));
    }
    std::ifstream in(src.path, std::ios::binary);
    if (!in) {
      return fail(
          core::InvalidArgument(fmt::format("include: cannot open \"{}\"", src.path.string())));
    }
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), src.name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), (st.st_mode & S_IXUSR) ? 0755 : 0644);
    archive_entry_set_size(e.get(), st.st_size);
    archive_entry_set_mtime(e.get(), 0, 0);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
      return fail(
          core::Internal(fmt::format("bundle entry \"{}\": {}", src.name, ArchiveError(a.get()))));
    }
    std::int64_t left = st.st_size;
    while (left > 0) {
      in.read(buf.data(), static_cast<std::streamsize>(
                              std::min<std::int64_t>(left, static_cast<std::int64_t>(buf.size()))));
      std::streamsize n = in.gcount();
      if (n <= 0) {
        return fail(core::Internal(
            fmt::format("include: \"{}\" changed while it was packed", src.path.string())));
      }
      if (archive_write_data(a.get(), buf.data(), static_cast<std::size_t>(n)) < 0) {
        return fail(core::Internal(
            fmt::format("bundle entry \"{}\": {}", src.name, ArchiveError(a.get()))));
      }
      left -= n;
      std::int64_t written = archive_filter_bytes(a.get(), -1);
      if (written > max_size) return fail(over_limit(written));
    }
    out.files.push_back(src.name);
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return fail(core::Internal(fmt::format("cannot finish bundle: {}", ArchiveError(a.get()))));
  }
  std::error_code ec;
  auto size = static_cast<std::int64_t>(fs::file_size(tmp, ec));
  if (ec) return fail(core::Internal(fmt::format("cannot stat \"{}\": {}", tmp, ec.message())));
  if (size > max_size) return fail(over_limit(size));
  fs::rename(tmp, out_path, ec);
  if (ec) {
    return fail(core::Internal(fmt::format("cannot write \"{}\": {}", out_path, ec.message())));
  }
  auto digest = Sha256File(out_path);
  if (!digest) return digest.error();
  out.path = out_path;
  out.digest = *digest;
  out.size = size;
  return out;
}

namespace {

// Lexically resolves `components` (no "..": checked by the caller) plus a link target
// relative to the link's directory; nullopt when it climbs above the root.
std::optional<std::vector<std::string>> ResolveInside(std::vector<std::string> dir,
                                                      const std::string& target) {
  for (const auto& c : SplitPath(target)) {
    if (c == ".") continue;
    if (c == "..") {
      if (dir.empty()) return std::nullopt;
      dir.pop_back();
    } else {
      dir.push_back(c);
    }
  }
  return dir;
}

bool IsInside(const fs::path& root, const fs::path& p) {
  auto r = root.lexically_normal().generic_string();
  auto s = p.lexically_normal().generic_string();
  if (s == r) return true;
  if (!r.empty() && r.back() != '/') r += '/';
  return s.rfind(r, 0) == 0;
}

class Unpacker {
 public:
  Unpacker(fs::path dest, std::int64_t max_bytes) : dest_(std::move(dest)), max_(max_bytes) {}

  Status Run(const std::string& archive_path) {
    std::error_code ec;
    fs::create_directories(dest_, ec);
    if (ec) {
      return core::Internal(fmt::format("cannot create \"{}\": {}", dest_.string(), ec.message()));
    }
    dest_ = fs::canonical(dest_, ec);
    if (ec) return core::Internal(fmt::format("cannot resolve \"{}\"", dest_.string()));
    std::unique_ptr<archive, ArchiveReadDeleter> a(archive_read_new());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_none(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), archive_path.c_str(), kIoChunk) != ARCHIVE_OK) {
      return core::InvalidArgument(
          fmt::format("bundle \"{}\": {}", archive_path, ArchiveError(a.get())));
    }
    archive_entry* e = nullptr;
    for (int index = 0;; ++index) {
      int r = archive_read_next_header(a.get(), &e);
      if (r == ARCHIVE_EOF) break;
      if (index >= core::bounds::kMaxBundleEntries) {
        return core::Error{core::Code::kResourceExhausted,
                           fmt::format("bundle \"{}\": more than {} entries (the entry limit)",
                                       archive_path, core::bounds::kMaxBundleEntries)};
      }
      if (r < ARCHIVE_WARN) {
        return core::InvalidArgument(
            fmt::format("bundle \"{}\": {}", archive_path, ArchiveError(a.get())));
      }
      if (auto s = Entry(a.get(), e, index); !s) {
        return core::Error{s.error().code,
                           fmt::format("bundle \"{}\": {}", archive_path, s.error().message)};
      }
    }
    // Links were checked one by one; check once more with every link in place, so that
    // a chain of links cannot lead out of the directory.
    for (const auto& [name, path] : links_) {
      std::error_code lec;
      fs::path real = fs::weakly_canonical(path, lec);
      if (lec || !IsInside(dest_, real)) {
        return core::InvalidArgument(
            fmt::format("bundle \"{}\": entry \"{}\": symlink leads outside the bundle directory",
                        archive_path, name));
      }
    }
    return {};
  }

 private:
  static Error Bad(const std::string& name, const std::string& problem) {
    return core::InvalidArgument(fmt::format("entry \"{}\": {}", name, problem));
  }

  // Splits and checks an entry path; fills `parts`.
  static Status CheckName(const std::string& name, std::vector<std::string>& parts) {
    if (name.empty()) return core::InvalidArgument("an entry has an empty name");
    if (name[0] == '/') return Bad(name, "absolute paths are not allowed");
    parts.clear();
    for (const auto& c : SplitPath(name)) {
      if (c == "..") return Bad(name, "\"..\" components are not allowed");
      if (c == ".") continue;
      parts.push_back(c);
    }
    return {};
  }

  fs::path PathOf(const std::vector<std::string>& parts) const {
    fs::path p = dest_;
    for (const auto& c : parts) p /= c;
    return p;
  }

  // Creates the parent directories of `parts` and checks they resolve inside dest_.
  Status MakeParents(const std::string& name, const std::vector<std::string>& parts) {
    fs::path p = dest_;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      p /= parts[i];
      struct stat st {};
      if (::lstat(p.c_str(), &st) != 0) {
        if (::mkdir(p.c_str(), 0755) != 0) {
          return Bad(name, fmt::format("cannot create directory: {}", std::strerror(errno)));
        }
        continue;
      }
      if (S_ISDIR(st.st_mode)) continue;
      if (!S_ISLNK(st.st_mode)) return Bad(name, "a parent path is not a directory");
      std::error_code ec;
      fs::path real = fs::canonical(p, ec);
      if (ec || !IsInside(dest_, real) || !fs::is_directory(real, ec)) {
        return Bad(name, "a parent path leads outside the bundle directory");
      }
    }
    return {};
  }

  Status Entry(archive* a, archive_entry* e, int index) {
    const char* raw = archive_entry_pathname(e);
    std::string name = raw ? raw : "";
    if (name.empty()) return core::InvalidArgument(fmt::format("entry #{} has no name", index));
    std::vector<std::string> parts;
    if (auto s = CheckName(name, parts); !s) return s;
    if (const char* hl = archive_entry_hardlink(e)) return HardLink(name, parts, hl);
    auto type = archive_entry_filetype(e);
    if (parts.empty()) {
      if (type == AE_IFDIR) return {};
      return Bad(name, "names the bundle directory itself");
    }
    switch (type) {
      case AE_IFDIR:
        return Directory(name, parts);
      case AE_IFREG:
        return File(a, e, name, parts);
      case AE_IFLNK:
        return SymLink(name, parts, archive_entry_symlink(e));
      case AE_IFCHR:
      case AE_IFBLK:
        return Bad(name, "device files are not allowed");
      case AE_IFIFO:
        return Bad(name, "FIFOs are not allowed");
      case AE_IFSOCK:
        return Bad(name, "sockets are not allowed");
      default:
        return Bad(name, "unsupported entry type");
    }
  }

  Status Directory(const std::string& name, const std::vector<std::string>& parts) {
    if (auto s = MakeParents(name, parts); !s) return s;
    fs::path p = PathOf(parts);
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return {};
      return Bad(name, "would replace an earlier entry");
    }
    if (::mkdir(p.c_str(), 0755) != 0) {
      return Bad(name, fmt::format("cannot create directory: {}", std::strerror(errno)));
    }
    return {};
  }

  Status File(archive* a, archive_entry* e, const std::string& name,
              const std::vector<std::string>& parts) {
    // A sparse entry declares holes: small in the archive, as large as it likes on disk
    // (and once copied into a run directory).
    if (archive_entry_sparse_count(e) > 0) return Bad(name, "sparse files are not allowed");
    if (auto s = MakeParents(name, parts); !s) return s;
    fs::path p = PathOf(parts);
    mode_t mode = (archive_entry_perm(e) & S_IXUSR) ? 0755 : 0644;
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
      if (errno == EEXIST) return Bad(name, "would overwrite an earlier entry");
      return Bad(name, fmt::format("cannot create file: {}", std::strerror(errno)));
    }
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    std::int64_t written = 0;
    Status result;
    for (;;) {
      int r = archive_read_data_block(a, &block, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) {
        result = Bad(name, ArchiveError(a));
        break;
      }
      if (offset != written) {  // a hole: data written past the end leaves one
        result = Bad(name, "sparse files are not allowed");
        break;
      }
      written += static_cast<std::int64_t>(size);
      total_ += static_cast<std::int64_t>(size);
      if (total_ > max_) {
        result = core::Error{core::Code::kResourceExhausted,
                             fmt::format("entry \"{}\": the bundle unpacks to more than {} "
                                         "(the unpacked size limit)",
                                         name, FormatBytes(max_))};
        break;
      }
      if (::pwrite(fd, block, size, offset) != static_cast<ssize_t>(size)) {
        result = Bad(name, fmt::format("cannot write: {}", std::strerror(errno)));
        break;
      }
    }
    ::close(fd);
    return result;
  }

  Status SymLink(const std::string& name, const std::vector<std::string>& parts,
                 const char* target) {
    std::string t = target ? target : "";
    if (t.empty()) return Bad(name, "symlink without a target");
    if (t[0] == '/') {
      return Bad(name, fmt::format("symlink to \"{}\" points outside the bundle directory", t));
    }
    std::vector<std::string> dir(parts.begin(), parts.end() - 1);
    if (!ResolveInside(dir, t)) {
      return Bad(name, fmt::format("symlink to \"{}\" points outside the bundle directory", t));
    }
    if (auto s = MakeParents(name, parts); !s) return s;
    fs::path p = PathOf(parts);
    if (::symlink(t.c_str(), p.c_str()) != 0) {
      if (errno == EEXIST) return Bad(name, "would overwrite an earlier entry");
      return Bad(name, fmt::format("cannot create symlink: {}", std::strerror(errno)));
    }
    links_.emplace_back(name, p);
    return {};
  }

  Status HardLink(const std::string& name, const std::vector<std::string>& parts,
                  const std::string& target) {
    std::vector<std::string> tparts;
    if (target.empty() || target[0] == '/') {
      return Bad(name,
                 fmt::format("hardlink to \"{}\" points outside the bundle directory", target));
    }
    for (const auto& c : SplitPath(target)) {
      if (c == "..") {
        return Bad(name,
                   fmt::format("hardlink to \"{}\" points outside the bundle directory", target));
      }
      if (c != ".") tparts.push_back(c);
    }
    if (parts.empty() || tparts.empty()) return Bad(name, "hardlink without a usable name");
    fs::path tp = PathOf(tparts);
    struct stat st {};
    if (::lstat(tp.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Bad(name, fmt::format("hardlink to \"{}\", which is not an earlier file of the "
                                   "bundle",
                                   target));
    }
    std::error_code ec;
    fs::path real_target = fs::canonical(tp, ec);
    if (ec || !IsInside(dest_, real_target)) {
      return Bad(name,
                 fmt::format("hardlink to \"{}\" points outside the bundle directory", target));
    }
    if (auto s = MakeParents(name, parts); !s) return s;
    fs::path p = PathOf(parts);
    if (::link(real_target.c_str(), p.c_str()) != 0) {
      if (errno == EEXIST) return Bad(name, "would overwrite an earlier entry");
      return Bad(name, fmt::format("cannot create hardlink: {}", std::strerror(errno)));
    }
    return {};
  }

  fs::path dest_;
  std::int64_t max_;
  std::int64_t total_ = 0;
  std::vector<std::pair<std::string, fs::path>> links_;
};

}  // namespace

Status UnpackBundle(const std::string& archive_path, const std::string& dest_dir,
                    std::int64_t max_unpacked_bytes) {
  if (max_unpacked_bytes < 0) max_unpacked_bytes = 10 * MaxBundleSize();
  Unpacker u(fs::absolute(dest_dir), max_unpacked_bytes);
  return u.Run(archive_path);
}

namespace {

std::string Hex(const unsigned char* data, unsigned int n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xf];
  }
  return out;
}

struct MdDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

Result<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::NotFound(fmt::format("cannot open \"{}\"", path));
  std::unique_ptr<EVP_MD_CTX, MdDeleter> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::string buf(kIoChunk, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) {
      EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
    }
  }
  if (in.bad()) return core::Internal(fmt::format("cannot read \"{}\"", path));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &n);
  return "sha256:" + Hex(md, n);
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return Hex(md, n);
}

Status VerifyBundle(const std::string& path, const std::string& digest) {
  auto actual = Sha256File(path);
  if (!actual) return actual.error();
  if (*actual != digest) {
    return core::Internal(
        fmt::format("bundle \"{}\" has digest {}, expected {}", path, *actual, digest));
  }
  return {};
}

bool IsValidDigest(const std::string& digest) {
  if (digest.size() != 7 + 64 || digest.rfind("sha256:", 0) != 0) return false;
  return std::all_of(digest.begin() + 7, digest.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string DigestHex(const std::string& digest) {
  return digest.rfind("sha256:", 0) == 0 ? digest.substr(7) : digest;
}

}  // namespace weft::client
