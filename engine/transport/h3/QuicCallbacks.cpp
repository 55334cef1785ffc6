#include "transport/h3/QuicCallbacks.h"

#include "transport/h3/QuicConnection.h"

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2_crypto.h>

namespace qmasque::h3 {

// QuicCallbacks: the ngtcp2 callback trampolines; user_data is the QuicConnection.
struct QuicCallbacks
{
    static QuicConnection *self(void *userData) { return static_cast<QuicConnection *>(userData); }

    static int handshakeCompleted(ngtcp2_conn *, void *userData)
    {
        return self(userData)->onHandshakeCompleted();
    }
    static int handshakeConfirmed(ngtcp2_conn *, void *userData)
    {
        return self(userData)->m_app->handshakeConfirmed();
    }
    static int recvStreamData(ngtcp2_conn *, uint32_t flags, int64_t streamId, uint64_t,
                              const uint8_t *data, size_t size, void *userData, void *)
    {
        return self(userData)->m_app->receiveStreamData(streamId, flags, data, size);
    }
    static int ackedStreamDataOffset(ngtcp2_conn *, int64_t streamId, uint64_t, uint64_t size,
                                     void *userData, void *)
    {
        return self(userData)->m_app->ackedStreamData(streamId, size);
    }
    static int streamClose(ngtcp2_conn *, uint32_t flags, int64_t streamId, uint64_t code,
                           void *userData, void *)
    {
        return self(userData)->onStreamClose(flags, streamId, code);
    }
    static int recvStatelessReset(ngtcp2_conn *, const ngtcp2_pkt_stateless_reset *, void *userData)
    {
        self(userData)->m_statelessReset = true;
        return 0;
    }
    static int extendMaxLocalStreamsBidi(ngtcp2_conn *, uint64_t, void *userData)
    {
        self(userData)->m_app->localStreamCreditChanged();
        return 0;
    }
    static void rand(uint8_t *dest, size_t size, const ngtcp2_rand_ctx *)
    {
        gnutls_rnd(GNUTLS_RND_NONCE, dest, size);
    }
    static int getNewConnectionId(ngtcp2_conn *, ngtcp2_cid *cid, uint8_t *token, size_t length,
                                  void *userData)
    {
        return self(userData)->onNewConnectionId(cid, token, length);
    }
    static int removeConnectionId(ngtcp2_conn *, const ngtcp2_cid *cid, void *userData)
    {
        return self(userData)->onRemoveConnectionId(cid);
    }
    static int streamReset(ngtcp2_conn *, int64_t streamId, uint64_t, uint64_t code, void *userData,
                           void *)
    {
        return self(userData)->m_app->streamReset(streamId, code);
    }
    static int extendMaxStreamData(ngtcp2_conn *, int64_t streamId, uint64_t, void *userData,
                                   void *)
    {
        return self(userData)->m_app->extendMaxStreamData(streamId);
    }
    static int recvDatagram(ngtcp2_conn *, uint32_t, const uint8_t *data, size_t size,
                            void *userData)
    {
        self(userData)->m_app->receiveDatagram(data, size);
        return 0;
    }
    static int lostDatagram(ngtcp2_conn *, uint64_t, void *userData)
    {
        ++self(userData)->m_lostDatagramPackets;
        return 0;
    }
    static int streamStopSending(ngtcp2_conn *, int64_t streamId, uint64_t code, void *userData,
                                 void *)
    {
        return self(userData)->m_app->streamStopSending(streamId, code);
    }
    static int recvTxKey(ngtcp2_conn *, ngtcp2_encryption_level level, void *userData)
    {
        // HTTP/3 opens its control streams as soon as 1-RTT data can be sent: the server's
        // SETTINGS then travel with its first flight (RFC 9114, 6.2.1).
        if (level != NGTCP2_ENCRYPTION_LEVEL_1RTT)
            return 0;
        return self(userData)->m_app->startApplication();
    }

    static ngtcp2_callbacks make(bool server)
    {
        ngtcp2_callbacks callbacks{};
        if (server) {
            callbacks.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
        } else {
            callbacks.client_initial = ngtcp2_crypto_client_initial_cb;
            callbacks.recv_retry = ngtcp2_crypto_recv_retry_cb;
        }
        callbacks.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
        callbacks.handshake_completed = &handshakeCompleted;
        callbacks.handshake_confirmed = &handshakeConfirmed;
        callbacks.encrypt = ngtcp2_crypto_encrypt_cb;
        callbacks.decrypt = ngtcp2_crypto_decrypt_cb;
        callbacks.hp_mask = ngtcp2_crypto_hp_mask_cb;
        callbacks.recv_stream_data = &recvStreamData;
        callbacks.acked_stream_data_offset = &ackedStreamDataOffset;
        callbacks.stream_close = &streamClose;
        callbacks.recv_stateless_reset = &recvStatelessReset;
        callbacks.extend_max_local_streams_bidi = &extendMaxLocalStreamsBidi;
        callbacks.rand = &rand;
        callbacks.get_new_connection_id = &getNewConnectionId;
        callbacks.remove_connection_id = &removeConnectionId;
        callbacks.update_key = ngtcp2_crypto_update_key_cb;
        callbacks.stream_reset = &streamReset;
        callbacks.extend_max_stream_data = &extendMaxStreamData;
        callbacks.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
        callbacks.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
        callbacks.recv_datagram = &recvDatagram;
        callbacks.lost_datagram = &lostDatagram;
        callbacks.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
        callbacks.stream_stop_sending = &streamStopSending;
        callbacks.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
        callbacks.recv_tx_key = &recvTxKey;
        return callbacks;
    }
};

const ngtcp2_callbacks &quicCallbacks(bool server)
{
    static const ngtcp2_callbacks client = QuicCallbacks::make(false);
    static const ngtcp2_callbacks serverCallbacks = QuicCallbacks::make(true);
    return server ? serverCallbacks : client;
}

} // namespace qmasque::h3
