#include "hw/core/address_space.h"

namespace hw {

const char* response_text(tlm::tlm_response_status status) {
  switch (status) {
    case tlm::TLM_OK_RESPONSE:
      return "ok";
    case tlm::TLM_INCOMPLETE_RESPONSE:
      return "no target responded";
    case tlm::TLM_GENERIC_ERROR_RESPONSE:
      return "generic error";
    case tlm::TLM_ADDRESS_ERROR_RESPONSE:
      return "unmapped address";
    case tlm::TLM_COMMAND_ERROR_RESPONSE:
      return "access not allowed (read-only or write-only)";
    case tlm::TLM_BURST_ERROR_RESPONSE:
      return "wrong access width";
    case tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE:
      return "byte enables not supported";
  }
  return "unknown response";
}

}  // namespace hw
