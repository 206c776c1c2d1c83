#pragma once
// Text from the server (log lines, run names, state messages, error messages) reaches a
// terminal only as printable text: an ESC or another control character in it could clear the
// screen, move the cursor, retitle the window or hide what follows. Control characters are
// shown as visible escapes instead (ESC -> "\x1b"); tab and newline pass.
#include <memory>
#include <streambuf>
#include <string>
#include <string_view>

namespace weft::cli::output {

// `text` with C0 controls other than tab and newline, DEL, C1 controls (U+0080..U+009F) and
// bytes that are not UTF-8 replaced by "\xNN" escapes; valid UTF-8 passes unchanged.
std::string Printable(std::string_view text);

// A streambuf that writes what it is given to `target` through Printable (keeping a
// multi-byte character split across writes whole).
class PrintableBuf final : public std::streambuf {
 public:
  explicit PrintableBuf(std::streambuf* target) : target_(target) {}
  ~PrintableBuf() override;

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  void Emit(std::string_view bytes, bool final);
  std::streambuf* target_;
  std::string pending_;  // the start of a character whose other bytes have not come yet
};

// While alive, std::cout and std::cerr print through PrintableBuf.
class PrintableStdStreams {
 public:
  PrintableStdStreams();
  ~PrintableStdStreams();
  PrintableStdStreams(const PrintableStdStreams&) = delete;
  PrintableStdStreams& operator=(const PrintableStdStreams&) = delete;

 private:
  std::streambuf* out_ = nullptr;
  std::streambuf* err_ = nullptr;
  std::unique_ptr<PrintableBuf> out_buf_;
  std::unique_ptr<PrintableBuf> err_buf_;
};

}  // namespace weft::cli::output
