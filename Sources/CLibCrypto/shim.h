#ifndef ALLOWANCE_CLIBCRYPTO_SHIM_H
#define ALLOWANCE_CLIBCRYPTO_SHIM_H
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#endif
