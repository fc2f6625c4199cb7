#pragma once
// The interrupt-acknowledge cycle as an interface: the CPU's INTA pulses reach the master
// controller, which may hand the vector cycle to a slave over the cascade lines. The RTL
// controller's bridge implements the same interface, so the CPU cannot tell them apart.
#include <cstdint>

#include <systemc>

namespace hw::intc {

class inta_if : public virtual sc_core::sc_interface {
 public:
  // Both INTA pulses of an 8086-mode acknowledge; returns the vector driven on the data bus.
  virtual std::uint8_t acknowledge() = 0;
};

// The master's view of its slaves during INTA: CAS2..0 select one; only the slave whose ICW3
// identity matches drives the vector.
class cascade_if : public virtual sc_core::sc_interface {
 public:
  // Returns true and the vector if this slave has identity `cas`.
  virtual bool cascade_acknowledge(unsigned cas, std::uint8_t& vector) = 0;
};

}  // namespace hw::intc
