// iocosim: the command line of platform/cli.h with the built-in types.
#include <systemc>  // declares sc_main extern "C", as libsystemc calls it

#include "platform/cli.h"

int sc_main(int argc, char* argv[]) {
  return platform::cli_main(argc, argv);
}

int main(int argc, char* argv[]) {
  return platform::program_main(argc, argv);
}
