#pragma once
// Shared by the e2e flow programs: they report what they did by appending lines to a file
// that the test reads (O_APPEND: concurrent processes never interleave a line). An empty
// path writes nothing.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace weft::e2e {

inline std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline void AppendLine(const std::string& path, const std::string& line) {
  if (path.empty()) return;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  std::string data = line + "\n";
  ssize_t n = ::write(fd, data.data(), data.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size())) throw std::runtime_error("short write to " + path);
}

}  // namespace weft::e2e
