// Checked access to JavaScript arguments: a wrong type is a TypeError that
// names the argument, never undefined behaviour in C++.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "errors.h"

namespace loupe {

inline Napi::Value Arg(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() ? info[index] : info.Env().Undefined();
}

inline std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  if (!value.IsString()) ThrowTypeError(info.Env(), std::string(what) + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

inline int64_t IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(number) || std::trunc(number) != number || std::fabs(number) > 9007199254740991.0)
    ThrowTypeError(info.Env(), std::string(what) + " must be an integer");
  return static_cast<int64_t>(number);
}

inline uint64_t BigUint64Arg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  bool lossless = false;
  uint64_t number = value.IsBigInt() ? value.As<Napi::BigInt>().Uint64Value(&lossless) : 0;
  if (!lossless) ThrowTypeError(info.Env(), std::string(what) + " must be a bigint from 0 to 2^64-1");
  return number;
}

inline bool BoolArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  if (!value.IsBoolean()) ThrowTypeError(info.Env(), std::string(what) + " must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

inline Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  if (!value.IsBuffer()) ThrowTypeError(info.Env(), std::string(what) + " must be a Buffer");
  return value.As<Napi::Buffer<uint8_t>>();
}

// Wrappers of libbpf-owned things are made by their parent, never with `new`
// from JavaScript: their constructor takes one External with the parent's data.
template <typename T>
T* InternalArg(const Napi::CallbackInfo& info, const char* className) {
  if (info.Length() != 1 || !info[0].IsExternal())
    ThrowTypeError(info.Env(), std::string(className) + " is created by its BpfObject, not with new");
  return info[0].As<Napi::External<T>>().Data();
}

}  // namespace loupe
