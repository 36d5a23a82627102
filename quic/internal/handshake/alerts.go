package handshake

import "fmt"

// TLS alert descriptions (RFC 8446 §6, RFC 7301, RFC 8446 §4.4.2.4) used by
// this engine. QUIC carries them as CRYPTO_ERROR 0x100+alert (RFC 9001 §4.8).
const (
	AlertUnexpectedMessage      uint8 = 10
	AlertHandshakeFailure       uint8 = 40
	AlertBadCertificate         uint8 = 42
	AlertUnsupportedCertificate uint8 = 43
	AlertIllegalParameter       uint8 = 47
	AlertUnknownCA              uint8 = 48
	AlertDecodeError            uint8 = 50
	AlertDecryptError           uint8 = 51
	AlertProtocolVersion        uint8 = 70
	AlertInternalError          uint8 = 80
	AlertMissingExtension       uint8 = 109
	AlertUnsupportedExtension   uint8 = 110
	AlertCertificateRequired    uint8 = 116
	AlertNoApplicationProtocol  uint8 = 120
)

// AlertError is the only error type the engine returns for a failed
// handshake. The QUIC layer closes the connection with CRYPTO_ERROR
// 0x100+Alert.
type AlertError struct {
	Alert  uint8
	Reason string
}

func (e *AlertError) Error() string {
	return fmt.Sprintf("tls: alert %d (%s): %s", e.Alert, alertName(e.Alert), e.Reason)
}

// QUICErrorCode is the CRYPTO_ERROR code QUIC sends for this alert.
func (e *AlertError) QUICErrorCode() uint64 { return 0x100 + uint64(e.Alert) }

func alertf(alert uint8, format string, args ...any) *AlertError {
	return &AlertError{Alert: alert, Reason: fmt.Sprintf(format, args...)}
}

func errDecode(what string) *AlertError {
	return &AlertError{Alert: AlertDecodeError, Reason: "malformed " + what}
}

func alertName(a uint8) string {
	switch a {
	case AlertUnexpectedMessage:
		return "unexpected_message"
	case AlertHandshakeFailure:
		return "handshake_failure"
	case AlertBadCertificate:
		return "bad_certificate"
	case AlertUnsupportedCertificate:
		return "unsupported_certificate"
	case AlertIllegalParameter:
		return "illegal_parameter"
	case AlertUnknownCA:
		return "unknown_ca"
	case AlertDecodeError:
		return "decode_error"
	case AlertDecryptError:
		return "decrypt_error"
	case AlertProtocolVersion:
		return "protocol_version"
	case AlertInternalError:
		return "internal_error"
	case AlertMissingExtension:
		return "missing_extension"
	case AlertUnsupportedExtension:
		return "unsupported_extension"
	case AlertCertificateRequired:
		return "certificate_required"
	case AlertNoApplicationProtocol:
		return "no_application_protocol"
	}
	return "unknown"
}
