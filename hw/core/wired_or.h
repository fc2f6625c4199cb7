#pragma once
// Several drivers of one interrupt line (a device and a script, or shared devices): the line
// is high while any input is high. Only instantiated where a line has more than one driver,
// so single-driver lines pay no extra delta cycle.
#include <systemc>

namespace hw {

class WiredOr : public sc_core::sc_module {
 public:
  sc_core::sc_vector<sc_core::sc_in<bool>> in;
  sc_core::sc_out<bool> out;

  WiredOr(const sc_core::sc_module_name& name, unsigned inputs)
      : sc_module(name), in("in", inputs) {
    SC_HAS_PROCESS(WiredOr);
    SC_METHOD(update);
    for (auto& i : in) sensitive << i;
  }

 private:
  void update() {
    bool v = false;
    for (auto& i : in) v = v || i.read();
    out.write(v);
  }
};

}  // namespace hw
