// A public URL as a QR code, for opening it on a phone (black on white in
// either theme, so every camera reads it).
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';

export function QrCode({ url, close }: { url: string; close(): void }) {
  const [image, setImage] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(url, { errorCorrectionLevel: 'M', margin: 2, scale: 6, color: { dark: '#000000', light: '#ffffff' } }).then(
      (data) => live && setImage(data),
      (failure: Error) => live && setError(failure.message),
    );
    return () => {
      live = false;
    };
  }, [url]);
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-label={`QR code for ${url}`} onClick={close}>
      <div className="overlay-box qr-box" onClick={(event) => event.stopPropagation()}>
        {image !== undefined && <img src={image} alt={`QR code of ${url}`} data-testid="qr-code" />}
        {error !== undefined && <p className="error">Could not draw the code: {error}</p>}
        <p>
          <code>{url}</code>
        </p>
        <button type="button" onClick={close} autoFocus>
          Close
        </button>
      </div>
    </div>
  );
}
