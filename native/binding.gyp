# The native addon over the system libbpf (pkg-config libbpf, >= 1.1).
# Built by hack/build-native.sh; output: native/build/Release/loupe_native.node
{
  "targets": [
    {
      "target_name": "loupe_native",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/link.cc",
        "src/map.cc",
        "src/object.cc",
        "src/program.cc",
        "src/ring_buffer.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "<!@(pkg-config --cflags libbpf)"],
      "libraries": ["<!@(pkg-config --libs libbpf)"]
    }
  ]
}
