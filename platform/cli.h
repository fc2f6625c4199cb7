#pragma once
// The iocosim program, for any executable that links the platform library: iocosim itself
// (platform/main.cpp) and a user's build with its own registered types
// (examples/custom-device). Such a program includes <systemc> (which declares sc_main
// extern "C") and defines
//   int sc_main(int argc, char* argv[]) { return platform::cli_main(argc, argv); }
//   int main(int argc, char* argv[]) { return platform::program_main(argc, argv); }
namespace platform {

// Parses the command line and runs the subcommand; returns the exit status (docs/cli.md).
int cli_main(int argc, char* argv[]);
// The process entry: quiets SystemC's banner, installs the Ctrl-C handlers and enters SystemC,
// which calls sc_main.
int program_main(int argc, char* argv[]);

}  // namespace platform
