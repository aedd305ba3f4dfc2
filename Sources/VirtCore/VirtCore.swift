// VirtCore: the management API. It re-exports VirtBase so every client sees VirtError and CPUSet.
@_exported import VirtBase
