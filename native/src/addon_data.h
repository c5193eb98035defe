// Per-environment state of the addon: the constructors it creates wrappers
// with, and the BpfError class that native/index.ts registers at load.
#pragma once

#include <napi.h>

namespace loupe {

struct AddonData {
  Napi::FunctionReference bpfError;
  Napi::FunctionReference object;
  Napi::FunctionReference program;
  Napi::FunctionReference map;
  Napi::FunctionReference link;
  Napi::FunctionReference ringBuffer;
  Napi::FunctionReference ownedFd;
};

inline AddonData& Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace loupe
