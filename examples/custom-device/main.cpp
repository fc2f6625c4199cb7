// kbdsim: iocosim's command line with the keyboard's types registered (platform/kbd_types.cpp).
#include <systemc>  // declares sc_main extern "C", as libsystemc calls it

#include "platform/cli.h"

int sc_main(int argc, char* argv[]) {
  return platform::cli_main(argc, argv);
}

int main(int argc, char* argv[]) {
  return platform::program_main(argc, argv);
}
