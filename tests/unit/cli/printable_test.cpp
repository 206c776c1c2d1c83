// Server-supplied text reaches the terminal without control characters.
#include <catch2/catch.hpp>
#include <ostream>
#include <sstream>

#include "cli/output/printable.hpp"

using weft::cli::output::Printable;
using weft::cli::output::PrintableBuf;

TEST_CASE("printable: controls become visible escapes; text, tabs, newlines and UTF-8 pass",
          "[bounds][cli]") {
  CHECK(Printable("plain text") == "plain text");
  CHECK(Printable("a\tb\nc") == "a\tb\nc");
  CHECK(Printable("\x1b[2Jcleared") == "\\x1b[2Jcleared");
  CHECK(Printable("bell\a back\b cr\r del\x7f nul" + std::string(1, '\0')) ==
        "bell\\x07 back\\x08 cr\\x0d del\\x7f nul\\x00");
  CHECK(Printable("\x1b]0;title\x07") == "\\x1b]0;title\\x07");
  // UTF-8 passes; the C1 controls (here CSI, U+009B) and stray bytes do not.
  CHECK(Printable("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80");
  CHECK(Printable("\xc2\x9b" "2J") == "\\xc2\\x9b2J");
  CHECK(Printable("\x9b" "2J") == "\\x9b2J");
  CHECK(Printable("cut \xe2\x9c") == "cut \\xe2\\x9c");
  CHECK(Printable("\xc0\xaf") == "\\xc0\\xaf");  // overlong '/'
}

TEST_CASE("printable: a stream through PrintableBuf keeps characters split across writes",
          "[bounds][cli]") {
  std::ostringstream sink;
  {
    PrintableBuf buf(sink.rdbuf());
    std::ostream out(&buf);
    out << "log: \x1b[2J" << '\n';
    out << "\xe2";  // a check mark in three writes
    out << '\x9c';
    out << "\x93 ok";
    out << "\xc3";  // an incomplete character at the end is escaped when the stream ends
  }
  CHECK(sink.str() == "log: \\x1b[2J\n\xe2\x9c\x93 ok\\xc3");
}
