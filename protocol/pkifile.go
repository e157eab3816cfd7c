package protocol

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// PKI on disk: one directory holds, per CA, NAME.crt (PEM certificate),
// NAME.key (PEM PKCS#8 private key, mode 0600) and NAME.crl once it revoked
// something. End-entity certificates and keys are written the same way.

// SubCAs are the sub-CAs of `verimeter pki init`, one per role family, with
// the roles each may certify.
var SubCAs = map[string][]Role{
	"manufacturer":        {RoleMeterChannel, RoleMeterSigning, RoleManufacturer},
	"gateway-operator":    {RoleGateway, RoleTrustListSign},
	"head-end-operator":   {RoleHeadEnd, RoleTrustListSign, RoleEncryption},
	"market-participant":  {RoleSupplier, RoleGridOperator, RoleEncryption},
	"metrology-authority": {RoleAuthority},
}

// WriteCertificate writes a certificate as PEM.
func WriteCertificate(path string, c *x509.Certificate) error {
	return writePEM(path, "CERTIFICATE", c.Raw, 0o644)
}

// WriteKey writes a private key as PEM PKCS#8, readable by its owner only.
func WriteKey(path string, k *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}

// WriteCRL writes a CRL as PEM.
func WriteCRL(path string, crl *x509.RevocationList) error {
	return writePEM(path, "X509 CRL", crl.Raw, 0o644)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readPEM(path, typ string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != typ {
		return nil, fmt.Errorf("%w: %s is not a PEM %s", ErrMalformed, path, typ)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %s has data after the PEM block", ErrTrailing, path)
	}
	return blk.Bytes, nil
}

// ReadCertificate reads a PEM certificate.
func ReadCertificate(path string) (*x509.Certificate, error) {
	der, err := readPEM(path, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCertificate, path, err)
	}
	return c, nil
}

// ReadKey reads a PEM PKCS#8 ECDSA private key.
func ReadKey(path string) (*ecdsa.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an ECDSA key", ErrMalformed, path)
	}
	return ek, nil
}

// ReadCRL reads a PEM CRL.
func ReadCRL(path string) (*x509.RevocationList, error) {
	der, err := readPEM(path, "X509 CRL")
	if err != nil {
		return nil, err
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCertificate, path, err)
	}
	return crl, nil
}

// LoadCA reads the certificate and key of CA name from dir.
func LoadCA(dir, name string, rand io.Reader) (*CA, error) {
	c, err := ReadCertificate(filepath.Join(dir, name+".crt"))
	if err != nil {
		return nil, err
	}
	k, err := ReadKey(filepath.Join(dir, name+".key"))
	if err != nil {
		return nil, err
	}
	if !k.PublicKey.Equal(c.PublicKey) {
		return nil, fmt.Errorf("%w: %s.key does not match %s.crt", ErrCertificate, name, name)
	}
	return &CA{Cert: c, Key: k, rand: rand}, nil
}

// SaveCA writes a CA's certificate and key into dir.
func SaveCA(dir, name string, ca *CA) error {
	if err := WriteKey(filepath.Join(dir, name+".key"), ca.Key); err != nil {
		return err
	}
	return WriteCertificate(filepath.Join(dir, name+".crt"), ca.Cert)
}
