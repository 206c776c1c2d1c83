// trivial_flow: the SDK flow bench_dispatch runs for throughput: one task, no work.
#include "sdk/flow/weft.hpp"

namespace {
auto noop = weft::task("noop", [] { return 1; });
auto trivial = weft::flow("trivial", [](weft::FlowContext&) { noop(); });
}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, trivial); }
