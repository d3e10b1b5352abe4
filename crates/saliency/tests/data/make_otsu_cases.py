"""Generates otsu_cases.json: histograms of random uint8 images and OpenCV 5.0.0's Otsu threshold
(cv2.threshold(img, 0, img.max(), cv2.THRESH_OTSU)[0]). Run once: python make_otsu_cases.py > otsu_cases.json"""
import numpy as np, cv2, json
rng=np.random.default_rng(11)
out=[]
for case in range(300):
    kind=case%5
    n=int(rng.integers(1,5000))
    if kind==0: img=rng.integers(0,256,n)
    elif kind==1: img=np.clip(rng.normal(rng.integers(0,256), rng.integers(1,60), n),0,255)
    elif kind==2: img=np.concatenate([rng.integers(0,20,n//2), rng.integers(200,256,n-n//2)])
    elif kind==3: img=np.full(n, rng.integers(0,256))
    else: img=rng.choice([0,int(rng.integers(1,256)),int(rng.integers(1,256))], n)
    img=np.asarray(img,np.uint8).reshape(1,-1)
    t,_=cv2.threshold(img,0,int(img.max()),cv2.THRESH_OTSU)
    hist=np.bincount(img.ravel(),minlength=256)
    nz={int(i):int(c) for i,c in enumerate(hist) if c}
    out.append({"hist":nz,"threshold":float(t)})
print(json.dumps(out))
