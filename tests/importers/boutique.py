"""A microservices demo in the style of the public shop demos: ten gRPC services, a Redis
cart store, a LoadBalancer front end, and Istio routes, rules and faults. Written here from
scratch; the shapes (ADDR variables, grpc ports, sourceLabels routes) are what such demos use.
"""

from __future__ import annotations

from pathlib import Path

SERVICES = {  # name -> (port, addresses it is given)
    "frontend": (8080, {"PRODUCT_CATALOG_SERVICE_ADDR": "productcatalogservice:3550",
                        "CURRENCY_SERVICE_ADDR": "currencyservice:7000",
                        "CART_SERVICE_ADDR": "cartservice:7070",
                        "RECOMMENDATION_SERVICE_ADDR": "recommendationservice:8080",
                        "SHIPPING_SERVICE_ADDR": "shippingservice:50051",
                        "CHECKOUT_SERVICE_ADDR": "checkoutservice:5050",
                        "AD_SERVICE_ADDR": "adservice:9555"}),
    "checkoutservice": (5050, {"PRODUCT_CATALOG_SERVICE_ADDR": "productcatalogservice:3550",
                               "SHIPPING_SERVICE_ADDR": "shippingservice:50051",
                               "PAYMENT_SERVICE_ADDR": "paymentservice:50051",
                               "CURRENCY_SERVICE_ADDR": "currencyservice:7000",
                               "CART_SERVICE_ADDR": "cartservice:7070"}),
    "recommendationservice": (8080, {"PRODUCT_CATALOG_SERVICE_ADDR":
                                     "productcatalogservice:3550"}),
    "cartservice": (7070, {"REDIS_ADDR": "redis-cart:6379"}),
    "productcatalogservice": (3550, {}),
    "currencyservice": (7000, {}),
    "paymentservice": (50051, {}),
    "shippingservice": (50051, {}),
    "emailservice": (8080, {}),
    "adservice": (9555, {}),
}
REPLICAS = {"frontend": 3, "cartservice": 2, "productcatalogservice": 2}


def _deployment(name: str, port: int, env: dict[str, str]) -> str:
    env_lines = "".join(f"            - name: {k}\n              value: \"{v}\"\n"
                        for k, v in env.items())
    if name == "checkoutservice":  # one address comes from a ConfigMap
        env_lines += ("            - name: EMAIL_SERVICE_ADDR\n              valueFrom:\n"
                      "                configMapKeyRef: {name: addresses, key: email}\n")
    extra = {"paymentservice": ("STRIPE_API_URL", "http://api.stripe.com/v1"),
             "emailservice": ("SMTP_HOST", "smtp.mail.example")}
    if name in extra:  # outside the cluster: declared by a ServiceEntry, or not at all
        variable, value = extra[name]
        env_lines += f"            - name: {variable}\n              value: {value}\n"
    replicas = f"  replicas: {REPLICAS[name]}\n" if name in REPLICAS else ""
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
{replicas}  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      serviceAccountName: {name}
      containers:
        - name: server
          image: us-docker.example/demo/{name}:v0.10.1
          ports:
            - containerPort: {port}
          env:
            - name: PORT
              value: "{port}"
{env_lines}          readinessProbe:
            periodSeconds: 15
            grpc:
              port: {port}
          livenessProbe:
            initialDelaySeconds: 20
            periodSeconds: 15
            timeoutSeconds: 2
            grpc:
              port: {port}
          resources:
            requests: {{cpu: 100m, memory: 64Mi}}
            limits: {{cpu: 200m, memory: 128Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: ClusterIP
  selector:
    app: {name}
  ports:
    - name: grpc
      port: {port}
      targetPort: {port}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
"""


KUBERNETES = "".join(_deployment(name, port, env) for name, (port, env) in SERVICES.items()) + """\
---
apiVersion: v1
kind: Service
metadata:
  name: frontend-external
spec:
  type: LoadBalancer
  selector:
    app: frontend
  ports:
    - name: http
      port: 80
      targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: redis-cart
spec:
  selector:
    matchLabels: {app: redis-cart}
  template:
    metadata:
      labels: {app: redis-cart}
    spec:
      containers:
        - name: redis
          image: redis:alpine
          ports: [{containerPort: 6379}]
          readinessProbe:
            periodSeconds: 5
            tcpSocket: {port: 6379}
          resources:
            limits: {cpu: 125m, memory: 256Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: redis-cart
spec:
  selector: {app: redis-cart}
  ports:
    - name: tcp-redis
      port: 6379
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: addresses
data:
  email: "emailservice:5000"
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: frontend
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: frontend}
  minReplicas: 3
  maxReplicas: 10
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
"""

ISTIO = """\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: stripe
spec:
  hosts: [api.stripe.com]
  location: MESH_EXTERNAL
  ports: [{number: 80, name: http, protocol: HTTP}]   # TLS originated by the mesh
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: stripe
spec:
  hosts: [api.stripe.com]
  http:
    - route:
        - destination: {host: api.stripe.com}
      timeout: 5s
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: frontend-gateway
spec:
  selector: {istio: ingressgateway}
  servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: frontend-ingress
spec:
  hosts: ["*"]
  gateways: [frontend-gateway]
  http:
    - route:
        - destination: {host: frontend, port: {number: 80}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: productcatalogservice
spec:
  hosts: [productcatalogservice]
  http:
    - route:
        - destination: {host: productcatalogservice}
      timeout: 3s
      retries:
        attempts: 3
        perTryTimeout: 1s
        retryOn: 5xx,connect-failure
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: paymentservice
spec:
  hosts: [paymentservice.default.svc.cluster.local]
  http:
    - match:
        - sourceLabels: {app: checkoutservice}
      route:
        - destination: {host: paymentservice}
      timeout: 2s
      retries: {attempts: 0}
      fault:
        abort:
          httpStatus: 503
          percentage: {value: 10}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: currencyservice
spec:
  hosts: [currencyservice]
  http:
    - route:
        - destination: {host: currencyservice}
      fault:
        delay:
          fixedDelay: 2s
          percentage: {value: 50}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: cartservice
spec:
  host: cartservice
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 100}
      http: {http1MaxPendingRequests: 10, maxRetries: 3}
    outlierDetection:
      consecutive5xxErrors: 7
      interval: 5s
      baseEjectionTime: 1m
      maxEjectionPercent: 50
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: currencyservice
spec:
  host: currencyservice.default.svc.cluster.local
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
"""


def write(folder: Path) -> list[str]:
    """The two files, as the demos ship them; returns their paths."""
    kubernetes = folder / "kubernetes-manifests.yaml"
    istio = folder / "istio-manifests.yaml"
    kubernetes.write_text(KUBERNETES)
    istio.write_text(ISTIO)
    return [str(kubernetes), str(istio)]
