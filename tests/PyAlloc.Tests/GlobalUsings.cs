// Every test file may call the C functions directly.
global using PyAlloc.Interop;
