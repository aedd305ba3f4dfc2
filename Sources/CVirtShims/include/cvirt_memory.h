/// Guest memory backing helpers. Symbols carry the `cvirt_` prefix.
#ifndef CVIRT_MEMORY_H
#define CVIRT_MEMORY_H

/// `memfd_create(name, flags)`. Returns a descriptor or -1 with errno set.
int cvirt_memfd_create(const char *name, unsigned int flags);

/// Flag values for `cvirt_memfd_create` and `madvise`, exported because they are macros.
extern const unsigned int CVIRT_MFD_CLOEXEC;
extern const unsigned int CVIRT_MFD_HUGETLB;
extern const int CVIRT_MADV_MERGEABLE;
extern const int CVIRT_MADV_UNMERGEABLE;
extern const int CVIRT_MAP_HUGETLB;
extern const int CVIRT_MAP_NORESERVE;
/// `MADV_POPULATE_WRITE` (Linux 5.14): fault a range in writable now, failing with an error where a fault would
/// raise SIGBUS (a huge page the policy's nodes cannot supply).
extern const int CVIRT_MADV_POPULATE_WRITE;
/// `MAP_HUGE_SHIFT`: an anonymous hugetlb mapping's page size is log2(size) << this shift in the mmap flags.
extern const int CVIRT_MAP_HUGE_SHIFT;
/// `MFD_HUGE_SHIFT`: a memfd's huge page size is log2(size) << this shift.
extern const int CVIRT_MFD_HUGE_SHIFT;

#endif
