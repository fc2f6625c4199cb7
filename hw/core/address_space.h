#pragma once
// The M/IO# pin of the system bus as a TLM extension: io on port accesses (IN/OUT); memory when
// set so or absent (the CPU keeps it on its payload, other masters have none). The bus decodes
// the two spaces separately.
#include <tlm>

#include "hw/cpu/processor.h"

namespace hw {

struct AddressSpaceExtension : tlm::tlm_extension<AddressSpaceExtension> {
  Space space = Space::io;
  tlm::tlm_extension_base* clone() const override { return new AddressSpaceExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    space = static_cast<const AddressSpaceExtension&>(other).space;
  }
};

inline Space space_of(const tlm::tlm_generic_payload& tx) {
  auto* ext = tx.get_extension<AddressSpaceExtension>();
  return ext ? ext->space : Space::memory;
}

const char* response_text(tlm::tlm_response_status status);

}  // namespace hw
